/** A bulk cancellation: one operation over many items, previewed, then confirmed, run item by item. */
import { createHash } from 'node:crypto';
import type { FieldError } from '../errors.js';

export type BatchStatus = 'previewing' | 'previewed' | 'running' | 'completed' | 'cancelled';
export type ItemStatus = 'pending' | 'succeeded' | 'in_progress' | 'rejected' | 'failed' | 'invalid' | 'cancelled';
export const ITEM_STATUSES: readonly ItemStatus[] = [
  'pending',
  'succeeded',
  'in_progress',
  'rejected',
  'failed',
  'invalid',
  'cancelled',
];

/** What an item's dry run said, for the batch's preview summary. */
export interface ItemPreview {
  outcome: 'would-succeed' | 'guard-refused' | 'would-be-rejected' | 'unreadable';
  refund: boolean;
  detail: Record<string, unknown> | null;
}

export interface PreviewSummary {
  wouldSucceed: number;
  /** The provider would refuse it (sTN: no longer pending; eSIM Go: its validate call refuses). */
  wouldBeRejected: number;
  wouldBeRefusedByGuard: number;
  wouldBeRefunded: number;
  invalid: number;
  unreadable: number;
}

export interface BatchMeta {
  batchId: string;
  sk: 'meta';
  caller: string;
  operation: string;
  status: BatchStatus;
  total: number;
  /** Items that can run (valid ones). */
  runnable: number;
  counts: Record<ItemStatus, number>;
  summary: PreviewSummary;
  previewed: number;
  /** How many items' preview (then run) messages were sent: a create or confirm cut short continues from here. */
  previewEnqueued: number;
  runEnqueued: number;
  payloadHash: string;
  createdAt: string;
  /** Set by a create that failed part way (it answered an error): a create again may finish its work at once. */
  createCutShortAt?: string;
  previewedAt: string | null;
  confirmedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  expiresAt: number;
}

export interface BatchItem {
  batchId: string;
  sk: string;
  index: number;
  input: Record<string, unknown>;
  status: ItemStatus;
  errors?: FieldError[];
  preview?: ItemPreview;
  operationId?: string;
  problem?: { type: string; status: number; detail: string } | null;
  /** `failed` because it was put back too often; an answer a copy of its message gets after all replaces it. */
  gaveUp?: boolean | null;
  updatedAt: string;
}

/**
 * Which batch item an operation runs, kept on the operation's record (`batch`): when the operation's follow-up makes it
 * final, the item (left `in_progress` by its answer) takes its final status from it.
 */
export interface BatchItemRef {
  batchId: string;
  index: number;
}

/** The batch item an operation record names, if it was run by a batch. */
export const batchItemOf = (record: object): BatchItemRef | undefined => {
  const ref = (record as { batch?: Partial<BatchItemRef> }).batch;
  return typeof ref?.batchId === 'string' && typeof ref.index === 'number'
    ? { batchId: ref.batchId, index: ref.index }
    : undefined;
};

export const MAX_ITEMS = 10_000;

export const itemKey = (index: number): string => `item#${String(index).padStart(6, '0')}`;

/** The batch a caller's key names: the same key from the same caller is the same batch (create is idempotent). */
export const batchIdOf = (caller: string, key: string): string =>
  `b_${createHash('sha256').update(`${caller}\n${key}`).digest('hex').slice(0, 32)}`;

/** Each item runs as an ordinary operation with this key: confirming twice or a redelivery never acts twice. */
export const itemIdempotencyKey = (batchId: string, index: number): string => `${batchId}-item-${index}`;

export const emptyCounts = (): Record<ItemStatus, number> =>
  Object.fromEntries(ITEM_STATUSES.map((status) => [status, 0])) as Record<ItemStatus, number>;

/**
 * How long a create may still be writing its items: the create function's 28 s timeout (infra/time-budget.ts) and a
 * margin. A create again within it (a client's retry while the first still runs) writes and sends nothing, so it
 * cannot send a preview for an item the first create then overwrites.
 */
export const CREATE_LIFETIME_MS = 30_000;

/** Whether an earlier create of this batch may still be writing its items (nothing sent yet, not known to be over). */
export const createMayBeRunning = (meta: BatchMeta, now = Date.now()): boolean =>
  meta.previewEnqueued === 0 &&
  meta.createCutShortAt === undefined &&
  now - Date.parse(meta.createdAt) < CREATE_LIFETIME_MS;
