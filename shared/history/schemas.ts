/**
 * The query parameters of the history routes (GET /v1/operations, GET /v1/reports/refunds, GET
 * /v1/esims/{iccid}/timeline), as zod schemas the handlers parse with and the OpenAPI document describes. Pure: no AWS,
 * no provider client, so the OpenAPI function can import it.
 */
import * as z from '../zod.js';
import type { OperationStatus } from '../audit.js';
import { cancelActivationContract } from '../operations/cancel-activation/contract.js';
import { iccidField, required } from '../operations/fields.js';

/** Every status an operation record can have (shared/audit.ts `OperationStatus`), as a runtime list. */
export const OPERATION_STATUSES = [
  'succeeded',
  'in_progress',
  'rejected',
  'failed',
  'unknown',
  'stalled',
] as const satisfies readonly OperationStatus[];
// Fails to compile when OperationStatus gains a status this list lacks.
const _everyStatus: Exclude<OperationStatus, (typeof OPERATION_STATUSES)[number]> extends never ? true : never = true;

/** Page sizes of the JSON answers: `limit` is 1-100, 25 when absent. */
export const PAGE_LIMIT = { min: 1, max: 100, default: 25 } as const;

/** The most rows one CSV download holds (`Accept: text/csv` on the refund ledger); a larger range is refused. */
export const CSV_MAX_ROWS = 10_000;

/** The newest operations an eSIM timeline shows (one caller, one eSIM). */
export const TIMELINE_MAX_OPERATIONS = 1_000;

/** An ISO 8601 date-time with a time zone (`Z` or an offset); seconds and fractions optional. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Every field in its range, the day in its month: `Date.parse` would roll 2024-02-30 over to March 1st. */
const isRealDateTime = (value: string): boolean => {
  const [, year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] =
    ISO_DATE_TIME.exec(value) ?? [];
  const [y, m, d] = [Number(year), Number(month), Number(day)];
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return (
    m >= 1 &&
    m <= 12 &&
    d >= 1 &&
    d <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59 &&
    Number.isFinite(Date.parse(value))
  );
};

/**
 * A date-time bound on `createdAt`, normalized to the form the records carry (`toISOString()`, UTC, milliseconds), so
 * the index's string order is time order: `2024-05-01T02:00:00+02:00` and `2024-05-01T00:00:00Z` are one instant.
 */
const dateTimeField = z
  .string({ error: required('a string') })
  .regex(ISO_DATE_TIME, {
    error: 'must be an ISO 8601 date-time with a time zone, e.g. 2024-05-01T00:00:00Z',
    abort: true,
  })
  .refine(isRealDateTime, { error: 'is not a real date-time', abort: true })
  .transform((value) => new Date(Date.parse(value)).toISOString());

const limitField = z
  .string({ error: required('a string') })
  .regex(/^\d{1,3}$/, { error: `must be an integer from ${PAGE_LIMIT.min} to ${PAGE_LIMIT.max}`, abort: true })
  .transform(Number)
  .refine((limit) => limit >= PAGE_LIMIT.min && limit <= PAGE_LIMIT.max, {
    error: `must be an integer from ${PAGE_LIMIT.min} to ${PAGE_LIMIT.max}`,
  });

/** Opaque to clients: what `nextCursor` said, unchanged (shared/history/cursor.ts reads it). */
export const cursorField = z
  .string({ error: required('a string') })
  .regex(/^[A-Za-z0-9_-]{1,1024}$/, { error: 'is not a cursor this API gave out: pass nextCursor unchanged' });

/** sTN's activation ids, by the cancel route's own rule. */
export const activationIdField = cancelActivationContract.request.path.shape.activationId as z.ZodType<string>;

export const statusField = z.enum(OPERATION_STATUSES, {
  error: `must be one of ${OPERATION_STATUSES.join(', ')}`,
});

/** `GET /v1/operations`: which operations (one eSIM or one activation, a status, a time range) and which page. */
export const historyQuerySchema = z.strictObject({
  iccid: iccidField.optional(),
  activationId: activationIdField.optional(),
  status: statusField.optional(),
  since: dateTimeField.optional(),
  until: dateTimeField.optional(),
  limit: limitField.optional(),
  cursor: cursorField.optional(),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

/** `GET /v1/reports/refunds`: a time range and a page (the CSV form holds every row of the range, without paging). */
export const refundQuerySchema = z.strictObject({
  since: dateTimeField.optional(),
  until: dateTimeField.optional(),
  limit: limitField.optional(),
  cursor: cursorField.optional(),
});
export type RefundQuery = z.infer<typeof refundQuerySchema>;

/** `GET /v1/esims/{iccid}/timeline`: the eSIM; no query parameters. */
export const timelinePathSchema = z.strictObject({ iccid: iccidField });
export const timelineQuerySchema = z.strictObject({});

/** Descriptions of the query parameters, for the OpenAPI document and docs/history.md. */
export const PARAMETER_DESCRIPTIONS = {
  iccid: "Only this eSIM's operations (19 or 20 digits starting 89, Luhn check digit). Not with `activationId`.",
  activationId: "Only this sTN activation's operations. Not with `iccid`.",
  status:
    'Only operations with this status. A filter after the index read: a page may then hold fewer than `limit` items (even none) while `nextCursor` is not null.',
  since: 'Only operations created at or after this instant (ISO 8601 date-time with a time zone; inclusive).',
  until: 'Only operations created at or before this instant (ISO 8601 date-time with a time zone; inclusive).',
  limit: `Items per page, ${PAGE_LIMIT.min}-${PAGE_LIMIT.max} (default ${PAGE_LIMIT.default}).`,
  cursor:
    '`nextCursor` of the previous page, unchanged. Only valid for the same caller with the same filters (`iccid`, `activationId`, `status`, `since`, `until`); `limit` may change.',
} as const;
