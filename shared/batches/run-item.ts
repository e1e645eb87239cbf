/**
 * One batch item's message, in its operation's own function: the preview phase runs the item's dry run and counts it
 * in the batch's summary; the run phase runs the item as an ordinary operation (same idempotency, target lease, guard
 * and reconciliation), keyed by the batch and the item, then records its status. An item the provider completes later
 * (sTN CANCELLING) is `in_progress` until its operation's follow-up makes the operation final and settles the item
 * (settleBatchItem); the batch is completed when no item is pending or in progress. Every write is conditional on the
 * item's status before, so a redelivered message changes nothing twice. A throttled provider or a busy target puts the
 * item back on its queue with a delay (put-back.ts), which slows the batch down instead of failing the item.
 */
import type { Context } from 'aws-lambda';
import { type OperationRecord, readOperation } from '../audit.js';
import { EVENT_SOURCE, publishOutcome, stableEventId } from '../events.js';
import { type ProblemError, toProblemError } from '../errors.js';
import { type IdempotentRunner, keyHash } from '../idempotency.js';
import { markerId } from '../key-markers.js';
import { readTarget, targetId } from '../target-lease.js';
import { config } from '../config.js';
import { logger } from '../observability.js';
import type { DryRunAnswer, OperationDefinition } from '../operations/definition.js';
import { count } from '../operations/pipeline/record.js';
import type { Recorder } from '../operations/pipeline/recorder.js';
import { type BatchItemMessage, sendBatchItemLater } from './messages.js';
import { MAX_PUT_BACKS, putBack } from './put-back.js';
import {
  type BatchItem,
  type BatchItemRef,
  type BatchMeta,
  type ItemPreview,
  type ItemStatus,
  batchItemOf,
  itemIdempotencyKey,
} from './model.js';
import { finishItem, moveBatch, readItem, readMeta, recordPreview, reviseGivenUp, settleItem } from './store.js';

/** Statuses that say "not now": the item is put back for later (put-back.ts) and stays pending. */
const RETRYABLE = new Set([409, 429, 500, 502, 503, 504]);

/**
 * What a dry run says for the summary, from the preview fields the operations share: `wouldBeRefusedByGuard`
 * (eSIM Go's returns-process guard), `refundable`, and `cancelWouldBeAccepted` / `upstreamAccepts` (the provider
 * would refuse it).
 */
export const judgePreview = (answer: DryRunAnswer): ItemPreview => {
  const preview = answer.preview;
  const refused = preview.cancelWouldBeAccepted === false || preview.upstreamAccepts === false;
  return {
    outcome: preview.wouldBeRefusedByGuard === true ? 'guard-refused' : refused ? 'would-be-rejected' : 'would-succeed',
    refund: preview.refundable === true && preview.wouldBeRefusedByGuard !== true,
    detail: preview,
  };
};

const problemOf = (problem: ProblemError) => ({ type: problem.kind, status: problem.status, detail: problem.detail });

/**
 * Once every item is done (none pending, none in progress at its provider), the batch is completed (once: whoever
 * moves it publishes) and says so on the bus. Each caller reads the counts after its own write, so the last item to
 * finish or settle sees them all.
 */
const completeIfDone = async (definition: OperationDefinition, batchId: string): Promise<void> => {
  const meta = await readMeta(batchId);
  if (meta === undefined || meta.counts.pending > 0 || meta.counts.in_progress > 0 || meta.status !== 'running') return;
  if (!(await moveBatch(batchId, ['running'], 'completed', 'completedAt'))) return;
  await publishBatchCompleted(definition, meta).catch((error: unknown) => {
    logger.error('batch event not published', { error: error as Error, batchId });
    count(definition, 'EventPublishFailures');
  });
};

const publishBatchCompleted = (definition: OperationDefinition, meta: BatchMeta) =>
  publishOutcome({
    source: EVENT_SOURCE,
    detailType: 'Batch Completed',
    detail: {
      eventId: stableEventId(meta.batchId, 'batch:completed'),
      operationId: meta.batchId,
      operation: definition.name,
      status: meta.counts.failed > 0 ? 'failed' : 'succeeded',
      target: `batch:${meta.batchId}`,
      caller: meta.caller,
      source: 'batch',
      httpStatus: 200,
      upstream: { status: null, message: null },
      reconciled: false,
      occurredAt: new Date().toISOString(),
      batch: { batchId: meta.batchId, total: meta.total, counts: meta.counts },
    },
  });

/** `activationStatus ERROR`: what the follow-up saw when it made the operation final (its last timeline entry). */
const lastObserved = (record: OperationRecord): string => {
  const { check: _check, outcome: _outcome, ...observed } = record.timeline?.at(-1)?.observed ?? {};
  return Object.entries(observed)
    .map(([name, value]) => `${name} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
};

/**
 * What an `in_progress` item becomes once its operation is final: `succeeded`, `failed` (the provider failed it after
 * accepting it: 502 `upstream-failed`, with what the follow-up observed), or `failed` for a `stalled` operation (504
 * `stalled`: no final state by the follow-up deadline, a person must look). Undefined while not final.
 */
const settledItem = (
  record: OperationRecord,
): { status: 'succeeded' | 'failed'; problem: BatchItem['problem'] } | undefined => {
  const see = `see GET /v1/operations/${record.operationId}`;
  switch (record.status) {
    case 'succeeded':
      return { status: 'succeeded', problem: null };
    case 'failed': {
      const observed = lastObserved(record);
      return {
        status: 'failed',
        problem: {
          type: 'upstream-failed',
          status: 502,
          detail: `The provider accepted the request, then reported it failed${observed === '' ? '' : ` (${observed})`}; ${see}`,
        },
      };
    }
    case 'stalled':
      return {
        status: 'failed',
        problem: {
          type: 'stalled',
          status: 504,
          detail: `Still not final at the follow-up deadline: the provider never gave a final state; ${see}`,
        },
      };
    default:
      return undefined;
  }
};

/**
 * Settles the batch item an operation runs once the operation is final: from its follow-up (the record names the
 * item), or from the batch run when the follow-up was first (the item was still pending then). Conditional on the item
 * being `in_progress` with this operation, so whichever comes second (or a redelivery) changes nothing.
 */
export const settleBatchItem = async (
  definition: OperationDefinition,
  record: OperationRecord,
  item: BatchItemRef | undefined = batchItemOf(record),
): Promise<void> => {
  const settled = item === undefined ? undefined : settledItem(record);
  if (item === undefined || settled === undefined) return;
  if (await settleItem(item.batchId, item.index, record.operationId, settled.status, settled.problem))
    logger.info('batch item settled', { ...item, operationId: record.operationId, status: settled.status });
  // Also when it was settled already: a delivery cut short between the settle and the completion completes it now.
  await completeIfDone(definition, item.batchId);
};

/**
 * What follows an item's write (again, on a redelivery): an `in_progress` item is settled if its operation is final
 * already (its follow-up came first, while the item was still pending, and could not settle it); any other item may
 * have been the batch's last.
 */
const afterWrite = async (
  definition: OperationDefinition,
  batchId: string,
  index: number,
  item: Pick<BatchItem, 'status' | 'operationId'>,
): Promise<void> => {
  if (item.status !== 'in_progress' || typeof item.operationId !== 'string') return completeIfDone(definition, batchId);
  if (!(await settleFromRecord(definition, { batchId, index }, item.operationId)).settled)
    await watchLater(definition, batchId, index);
};

/** Settles an `in_progress` item from its operation's record when that is final; the record as read either way. */
const settleFromRecord = async (definition: OperationDefinition, item: BatchItemRef, operationId: string) => {
  const record = await readOperation(operationId, { consistent: true });
  if (record === undefined || settledItem(record) === undefined) return { settled: false, record };
  await settleBatchItem(definition, record, item);
  return { settled: true, record };
};

/** How often an `in_progress` item is looked at (SQS's longest delay), in case its operation's follow-ups stopped. */
const WATCH_DELAY_SECONDS = 900;

const watchLater = (definition: OperationDefinition, batchId: string, index: number) =>
  sendBatchItemLater(definition.name, { batchItem: { batchId, index, phase: 'watch' } }, WATCH_DELAY_SECONDS);

/**
 * A look at an `in_progress` item. Its operation's follow-ups settle it; this makes sure it ends even if they stopped
 * (a follow-up never sent, an audit write lost), so its batch completes: an operation final by now settles it as the
 * follow-up would, one still open past the follow-up deadline and two of its longest delays is `failed` (`stalled`),
 * and anything else is looked at again later. The look ends once the item is no longer `in_progress`.
 */
const watch = async (definition: OperationDefinition, meta: BatchMeta, index: number): Promise<void> => {
  const item = await readItem(meta.batchId, index);
  if (item?.status !== 'in_progress' || typeof item.operationId !== 'string') return;
  const { settled, record } = await settleFromRecord(definition, { batchId: meta.batchId, index }, item.operationId);
  if (settled) return;
  const { FOLLOW_UP_DEADLINE_SECONDS, FOLLOW_UP_MAX_DELAY_SECONDS } = config();
  const openSince = Date.parse(record?.createdAt ?? item.updatedAt);
  if (Date.now() - openSince <= (FOLLOW_UP_DEADLINE_SECONDS + 2 * FOLLOW_UP_MAX_DELAY_SECONDS) * 1000)
    return watchLater(definition, meta.batchId, index);
  const problem = {
    type: 'stalled',
    status: 504,
    detail: `No follow-up made the operation final by the follow-up deadline (they stopped); see GET /v1/operations/${item.operationId}`,
  };
  if (await settleItem(meta.batchId, index, item.operationId, 'failed', problem))
    logger.warn('batch item ended by its watch: its follow-ups stopped', { batchId: meta.batchId, index });
  await completeIfDone(definition, meta.batchId);
};

/**
 * Whether the item's key has an attempt whose outcome is not known: its target's pending attempt (written right before
 * a write is sent, cleared once its outcome is known) is this key's.
 */
const mayHaveReachedProvider = async (
  definition: OperationDefinition,
  caller: string,
  key: string,
  input: Record<string, unknown>,
): Promise<boolean> => {
  const target = await readTarget(targetId(definition.provider, definition.lease(input as never)));
  return target?.pending?.keyId === markerId(definition.name, { caller, key });
};

const preview = async (definition: OperationDefinition, meta: BatchMeta, index: number) => {
  let judged: ItemPreview;
  try {
    judged = judgePreview(await definition.dryRun(((await readItem(meta.batchId, index))?.input ?? {}) as never));
  } catch (error) {
    const problem = toProblemError(error);
    if (problem.status === 429 || problem.status === 503) throw problem;
    judged = { outcome: 'unreadable', refund: false, detail: problemOf(problem) };
  }
  await recordJudgedPreview(meta.batchId, index, judged);
};

/** Counts the item's preview (once); the last one makes the batch `previewed`. */
const recordJudgedPreview = async (batchId: string, index: number, judged: ItemPreview): Promise<void> => {
  if (!(await recordPreview(batchId, index, judged))) return;
  const after = await readMeta(batchId);
  if (after !== undefined && after.previewed >= after.runnable)
    await moveBatch(batchId, ['previewing'], 'previewed', 'previewedAt');
};

const run = async (
  definition: OperationDefinition,
  meta: BatchMeta,
  index: number,
  runIdempotently: IdempotentRunner<Record<string, unknown>>,
  context: Context,
  recorder: Recorder,
) => {
  const item = await readItem(meta.batchId, index);
  if (item === undefined) return;
  // A redelivery after the item was written (the container died before finishing): what follows the write.
  if (item.status !== 'pending') return afterWrite(definition, meta.batchId, index, item);
  const key = itemIdempotencyKey(meta.batchId, index);
  // A cancel stops items not yet sent. One whose request may have reached the provider (sent, its answer lost) runs
  // on, so that its retry reconciles with the provider instead of leaving an effect nobody records.
  if (meta.status === 'cancelled' && !(await mayHaveReachedProvider(definition, meta.caller, key, item.input))) {
    await finishItem(meta.batchId, index, 'cancelled', {});
    return;
  }
  let status: ItemStatus;
  let result: { operationId?: string; problem?: { type: string; status: number; detail: string } | null };
  try {
    const answer = await runIdempotently(
      {
        scope: { caller: meta.caller, key },
        input: item.input,
        meta: { source: 'batch', keyHash: keyHash(key), batch: { batchId: meta.batchId, index } },
      },
      context,
      recorder,
    );
    const body = answer.body as { operationId?: string; status?: string; type?: string; detail?: string };
    status =
      answer.statusCode === 200
        ? body.status === 'in_progress'
          ? 'in_progress'
          : 'succeeded'
        : answer.statusCode === 422
          ? 'rejected'
          : 'failed';
    result = {
      operationId: body.operationId,
      problem:
        answer.statusCode === 200
          ? null
          : { type: String(body.type ?? ''), status: answer.statusCode, detail: String(body.detail ?? '') },
    };
  } catch (error) {
    const problem = toProblemError(error);
    if (RETRYABLE.has(problem.status)) throw problem;
    status = problem.status === 422 ? 'rejected' : 'failed';
    result = { problem: problemOf(problem) };
  }
  if (await finishItem(meta.batchId, index, status, result))
    return afterWrite(definition, meta.batchId, index, { status, operationId: result.operationId });
  // Given up by another copy of this message while this one ran: the answer replaces the give-up.
  if (await reviseGivenUp(meta.batchId, index, status, result))
    return afterWrite(definition, meta.batchId, index, { status, operationId: result.operationId });
  // Written by a concurrent delivery of this message: what follows too, in case that delivery goes no further.
  const written = await readItem(meta.batchId, index);
  if (written !== undefined) await afterWrite(definition, meta.batchId, index, written);
};

export const processBatchItem = async (
  definition: OperationDefinition,
  message: BatchItemMessage,
  runIdempotently: IdempotentRunner<Record<string, unknown>>,
  context: Context,
  recorder: Recorder,
): Promise<void> => {
  const { batchId, index, phase } = message.batchItem;
  const meta = await readMeta(batchId);
  if (meta === undefined || meta.operation !== definition.name) {
    logger.warn('batch item for no batch of this operation: dropped', { batchId, index });
    return;
  }
  try {
    if (phase === 'preview') return await preview(definition, meta, index);
    if (phase === 'watch') return await watch(definition, meta, index);
    await run(definition, meta, index, runIdempotently, context, recorder);
  } catch (error) {
    const problem = toProblemError(error);
    if (!RETRYABLE.has(problem.status)) throw error;
    if (await putBack(definition.name, message, problem)) return;
    // Put back too often: the item ends with the last answer instead of waiting for ever. A copy of its message still
    // running (a duplicate delivery) may yet answer: its answer then replaces this (reviseGivenUp).
    const gaveUp = { ...problemOf(problem), detail: `Gave up after ${MAX_PUT_BACKS} tries: ${problem.detail}` };
    if (phase === 'preview')
      return recordJudgedPreview(batchId, index, { outcome: 'unreadable', refund: false, detail: gaveUp });
    if (await finishItem(batchId, index, 'failed', { problem: gaveUp, gaveUp: true }))
      await completeIfDone(definition, batchId);
    return;
  }
  if (meta.status === 'cancelled') await completeIfDone(definition, batchId);
};
