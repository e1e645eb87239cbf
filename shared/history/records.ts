/** What the history routes show of an operation record: the shape GET /v1/operations/{operationId} answers. */
import type { OperationRecord, RefundDestination } from '../audit.js';

/** The record without its internal attributes (TTL, append guard, index key), with when it will be deleted. */
export const visibleOperation = (record: OperationRecord): Record<string, unknown> => {
  const {
    expiresAt,
    lastAttempt: _attempt,
    callerTarget: _index,
    ...visible
  } = record as OperationRecord & { callerTarget?: string };
  return {
    ...visible,
    ...(typeof expiresAt === 'number' ? { retainedUntil: new Date(expiresAt * 1000).toISOString() } : {}),
  };
};

/** One row of the refund ledger (JSON item and CSV row alike, in this column order). */
export interface RefundRow {
  operationId: string;
  createdAt: string;
  operation: string;
  iccid: string | null;
  bundle: string;
  assignmentId: string | null;
  predicted: RefundDestination;
  confirmed: RefundDestination | null;
  /** Whether eSIM Go's history confirmed another refund than the one predicted; null until confirmed. */
  mismatch: boolean | null;
  checkedAt: string | null;
}

export const REFUND_COLUMNS = [
  'operationId',
  'createdAt',
  'operation',
  'iccid',
  'bundle',
  'assignmentId',
  'predicted',
  'confirmed',
  'mismatch',
  'checkedAt',
] as const satisfies ReadonlyArray<keyof RefundRow>;

/** The operations the ledger lists: eSIM Go's revokes, which are the ones with a refund. */
export const REFUND_OPERATIONS = ['revoke-bundle', 'revoke-assignment'] as const;

/** The attributes a ledger row is made of (the query reads only these). */
export const REFUND_ATTRIBUTES = ['operationId', 'createdAt', 'operation', 'target', 'input', 'refund'] as const;

const iccidOf = (record: Pick<OperationRecord, 'target' | 'input'>): string | null => {
  const fromInput = record.input?.iccid;
  if (typeof fromInput === 'string') return fromInput;
  return /^iccid:([^/]+)/.exec(record.target ?? '')?.[1] ?? null;
};

export const refundRow = (
  record: Pick<OperationRecord, 'operationId' | 'createdAt' | 'operation' | 'target' | 'input' | 'refund'>,
): RefundRow => {
  const refund = record.refund as NonNullable<OperationRecord['refund']>;
  const confirmed = refund.confirmed ?? null;
  return {
    operationId: record.operationId,
    createdAt: record.createdAt,
    operation: record.operation,
    iccid: iccidOf(record),
    bundle: refund.bundle,
    assignmentId: refund.assignmentId ?? null,
    predicted: refund.predicted,
    confirmed,
    mismatch: confirmed === null ? null : confirmed !== refund.predicted,
    checkedAt: refund.checkedAt ?? null,
  };
};
