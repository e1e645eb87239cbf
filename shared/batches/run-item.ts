/**
 * One batch item's message, in its operation's own function: the preview phase runs the item's dry run and counts it
 * in the batch's summary; the run phase runs the item as an ordinary operation (same idempotency, target lease, guard
 * and reconciliation), keyed by the batch and the item, then records its status. Every write is conditional on the
 * item's status before, so a redelivered message changes nothing twice. A throttled provider or a busy target throws:
 * SQS brings the message back later, which slows the batch down instead of failing the item.
 */
import type { Context } from 'aws-lambda';
import { EVENT_SOURCE, publishOutcome, stableEventId } from '../events.js';
import { type ProblemError, toProblemError } from '../errors.js';
import { type IdempotentRunner, keyHash } from '../idempotency.js';
import { logger } from '../observability.js';
import type { DryRunAnswer, OperationDefinition } from '../operations/definition.js';
import { count } from '../operations/pipeline/record.js';
import type { Recorder } from '../operations/pipeline/recorder.js';
import type { BatchItemMessage } from './messages.js';
import { type BatchMeta, type ItemPreview, type ItemStatus, itemIdempotencyKey } from './model.js';
import { finishItem, moveBatch, readItem, readMeta, recordPreview } from './store.js';

/** Statuses that say "not now": the message comes back, the item stays pending. */
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

/** Once every item is done, the batch is completed (once) and says so on the bus. */
const completeIfDone = async (definition: OperationDefinition, batchId: string): Promise<void> => {
  const meta = await readMeta(batchId);
  if (meta === undefined || meta.counts.pending > 0 || meta.status !== 'running') return;
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

const preview = async (definition: OperationDefinition, meta: BatchMeta, index: number) => {
  let judged: ItemPreview;
  try {
    judged = judgePreview(await definition.dryRun(((await readItem(meta.batchId, index))?.input ?? {}) as never));
  } catch (error) {
    const problem = toProblemError(error);
    if (problem.status === 429 || problem.status === 503) throw problem;
    judged = { outcome: 'unreadable', refund: false, detail: problemOf(problem) };
  }
  if (!(await recordPreview(meta.batchId, index, judged))) return;
  const after = await readMeta(meta.batchId);
  if (after !== undefined && after.previewed >= after.runnable)
    await moveBatch(meta.batchId, ['previewing'], 'previewed', 'previewedAt');
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
  if (item === undefined || item.status !== 'pending') return;
  if (meta.status === 'cancelled') {
    await finishItem(meta.batchId, index, 'cancelled', {});
    return;
  }
  const key = itemIdempotencyKey(meta.batchId, index);
  let status: ItemStatus;
  let result: { operationId?: string; problem?: { type: string; status: number; detail: string } | null };
  try {
    const answer = await runIdempotently(
      { scope: { caller: meta.caller, key }, input: item.input, meta: { source: 'batch', keyHash: keyHash(key) } },
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
  if (await finishItem(meta.batchId, index, status, result)) await completeIfDone(definition, meta.batchId);
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
  if (phase === 'preview') return preview(definition, meta, index);
  await run(definition, meta, index, runIdempotently, context, recorder);
  if (meta.status === 'cancelled') await completeIfDone(definition, batchId);
};
