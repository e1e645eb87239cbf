/**
 * GET /v1/reports/refunds: the caller's eSIM Go revokes with their refund (what the plan predicted, what eSIM Go's
 * history confirmed), newest first, from the `byCaller` index filtered on `attribute_exists(refund)`. JSON pages like
 * the history; CSV (`Accept: text/csv`) holds every row of the range, up to CSV_MAX_ROWS.
 */
import { invalidRequest } from '../errors.js';
import { type CursorBinding, decodeCursor, encodeCursor } from './cursor.js';
import { toCsv } from './csv.js';
import { type HistoryPage, PAGE_MAX_QUERIES, rangeErrors } from './operations.js';
import { type Filter, type OperationsQuery, queryPage } from './query.js';
import { REFUND_ATTRIBUTES, REFUND_COLUMNS, REFUND_OPERATIONS, type RefundRow, refundRow } from './records.js';
import { CSV_MAX_ROWS, PAGE_LIMIT, type RefundQuery } from './schemas.js';

/**
 * The most Query calls one CSV takes. Each reads up to 1 MB of the caller's operations in the range (revokes or not):
 * a range of a few hundred thousand operations; a larger one is refused, to be narrowed.
 */
export const CSV_MAX_QUERIES = 200;

const refundFilter: Filter = {
  expression: 'attribute_exists(#f_refund) AND #f_operation IN (:f_op0, :f_op1)',
  names: { '#f_refund': 'refund', '#f_operation': 'operation' },
  values: { ':f_op0': REFUND_OPERATIONS[0], ':f_op1': REFUND_OPERATIONS[1] },
};

type LedgerRecord = Parameters<typeof refundRow>[0];

const ledgerQuery = (caller: string, query: RefundQuery): OperationsQuery => ({
  index: 'byCaller',
  partition: caller,
  since: query.since,
  until: query.until,
  filter: refundFilter,
  attributes: REFUND_ATTRIBUTES,
});

const checkRange = (query: RefundQuery) => {
  const errors = rangeErrors(query);
  if (errors.length > 0) throw invalidRequest(errors);
};

export const refundPage = async (caller: string, query: RefundQuery): Promise<HistoryPage<RefundRow>> => {
  checkRange(query);
  const binding: CursorBinding = {
    route: 'refund-report',
    caller,
    filters: { since: query.since, until: query.until },
  };
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, binding, query);
  const page = await queryPage<LedgerRecord>(ledgerQuery(caller, query), {
    limit: query.limit ?? PAGE_LIMIT.default,
    after,
    maxQueries: PAGE_MAX_QUERIES,
  });
  return {
    items: page.items.map(refundRow),
    nextCursor: page.next === undefined ? null : encodeCursor(page.next, binding),
  };
};

/** Every refund of the range as CSV, header first; a range with more than CSV_MAX_ROWS rows is refused (400). */
export const refundCsv = async (caller: string, query: RefundQuery): Promise<string> => {
  const paging = (['limit', 'cursor'] as const).filter((name) => query[name] !== undefined);
  if (paging.length > 0)
    throw invalidRequest(
      paging.map((path) => ({
        path,
        message: 'is not used with Accept: text/csv: the CSV holds every refund of the range (since, until)',
      })),
    );
  checkRange(query);
  const page = await queryPage<LedgerRecord>(ledgerQuery(caller, query), {
    limit: CSV_MAX_ROWS + 1,
    maxQueries: CSV_MAX_QUERIES,
  });
  if (page.items.length > CSV_MAX_ROWS || page.next !== undefined)
    throw invalidRequest([
      {
        path: query.since === undefined ? 'since' : 'until',
        message:
          page.items.length > CSV_MAX_ROWS
            ? `the range holds more than ${CSV_MAX_ROWS} refunds, the most one CSV holds: narrow since/until, or page through the JSON form`
            : 'the range holds too many operations to read for one CSV: narrow since/until, or page through the JSON form',
      },
    ]);
  return toCsv(REFUND_COLUMNS, page.items.map(refundRow));
};
