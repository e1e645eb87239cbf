/**
 * GET /v1/operations: one caller's operations, newest first, by an index (never a scan). With `iccid` or
 * `activationId` the `byCallerTarget` index (one caller's operations on that eSIM or activation), otherwise `byCaller`;
 * `since`/`until` bound `createdAt` in the key condition, `status` filters after the read.
 */
import { type OperationRecord, callerTarget } from '../audit.js';
import { type FieldError, invalidRequest } from '../errors.js';
import { type CursorBinding, decodeCursor, encodeCursor } from './cursor.js';
import { type Filter, type OperationsQuery, queryPage } from './query.js';
import { visibleOperation } from './records.js';
import { type HistoryQuery, PAGE_LIMIT } from './schemas.js';

/** The most Query calls one page takes (each reads up to 100 items when `status` filters): 1,000 items at most. */
export const PAGE_MAX_QUERIES = 10;

export interface HistoryPage<Item> {
  items: Item[];
  nextCursor: string | null;
}

/** The target an eSIM or an activation is recorded under (the contracts' `target`, shared/operations/<name>/contract.ts). */
export const targetOf = (query: { iccid?: string; activationId?: string }): string | undefined =>
  query.iccid !== undefined
    ? `iccid:${query.iccid}`
    : query.activationId !== undefined
      ? `activation:${query.activationId}`
      : undefined;

/** Rules across parameters: one target at most, and a range that is not reversed. */
export const rangeErrors = (query: { since?: string; until?: string }): FieldError[] =>
  query.since !== undefined && query.until !== undefined && query.since > query.until
    ? [{ path: 'until', message: 'must not be before since' }]
    : [];

export const listOperations = async (
  caller: string,
  query: HistoryQuery,
): Promise<HistoryPage<Record<string, unknown>>> => {
  const errors = rangeErrors(query);
  if (query.iccid !== undefined && query.activationId !== undefined)
    errors.unshift({
      path: 'activationId',
      message: 'must not be given with iccid: a history is of one eSIM or of one activation',
    });
  if (errors.length > 0) throw invalidRequest(errors);

  const target = targetOf(query);
  const filter: Filter | undefined =
    query.status === undefined
      ? undefined
      : {
          expression: '#f_status = :f_status',
          names: { '#f_status': 'status' },
          values: { ':f_status': query.status },
        };
  const read: OperationsQuery =
    target === undefined
      ? { index: 'byCaller', partition: caller, since: query.since, until: query.until, filter }
      : {
          index: 'byCallerTarget',
          partition: callerTarget(caller, target),
          since: query.since,
          until: query.until,
          filter,
        };
  const binding: CursorBinding = {
    route: 'list-operations',
    caller,
    filters: {
      iccid: query.iccid,
      activationId: query.activationId,
      status: query.status,
      since: query.since,
      until: query.until,
    },
  };
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, binding, query);
  const page = await queryPage<OperationRecord>(read, {
    limit: query.limit ?? PAGE_LIMIT.default,
    after,
    maxQueries: PAGE_MAX_QUERIES,
  });
  return {
    items: page.items.map(visibleOperation),
    nextCursor: page.next === undefined ? null : encodeCursor(page.next, binding),
  };
};
