/**
 * An item that cannot run now (a throttled provider, a busy eSIM, a key still in flight) is put back on its queue as a
 * new message with a growing delay, instead of failing its record: a record SQS redelivers uses up its receive count
 * and, after five, lands in the dead-letter queue, which would leave the item pending and the batch never done. A
 * batch that meets a throttled provider slows down; only an item put back MAX_PUT_BACKS times gives up.
 */
import type { ProblemError } from '../errors.js';
import { logger, metrics } from '../observability.js';
import { type BatchItemMessage, sendBatchItemLater } from './messages.js';

/** With delays doubling from 2 s up to SQS's 15 minutes: about three hours of waiting before an item gives up. */
export const MAX_PUT_BACKS = 20;

export const putBackDelaySeconds = (attempt: number, retryAfterSeconds?: number): number =>
  Math.min(Math.max(2 ** attempt, retryAfterSeconds ?? 0), 900);

/** Puts the item back for later; false when it was put back too often already. Rejects if SQS did not take it. */
export const putBack = async (
  operation: string,
  message: BatchItemMessage,
  problem: ProblemError,
): Promise<boolean> => {
  const attempt = (message.batchItem.attempt ?? 0) + 1;
  if (attempt > MAX_PUT_BACKS) return false;
  const delaySeconds = putBackDelaySeconds(attempt, problem.retryAfterSeconds);
  await sendBatchItemLater(operation, { batchItem: { ...message.batchItem, attempt } }, delaySeconds);
  metrics.addMetric('BatchItemsPutBack', 'Count', 1);
  logger.info('batch item put back for later', {
    batchId: message.batchItem.batchId,
    index: message.batchItem.index,
    phase: message.batchItem.phase,
    attempt,
    delaySeconds,
    problem: problem.kind,
  });
  return true;
};
