/**
 * The batch items' way to their operations, locally: what SQS and the event source mappings do in AWS, in-process.
 * An item message the batch functions send (no BATCH_QUEUE_URLS) is delivered to its operation's handler as a record
 * of the operation's queue sent by the batch functions' role, a few at a time (as a mapping's maximum concurrency
 * would). A message put back for later (a throttled provider, a busy eSIM) comes back after its delay, or after
 * `retryAfterMs` if that is shorter; a record the handler reports failed comes back after `retryAfterMs`, at most
 * MAX_RECEIVE_COUNT times in all, as the queues' redrive policy allows.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type BatchItemMessage, setBatchItemSink } from '../../shared/batches/messages.js';
import { LOCAL_BATCH_SENDER_ID } from '../../shared/queue/consumer.js';
import { MAX_RECEIVE_COUNT } from '../../shared/sqs.js';
import { lambdaContext } from './apigw-event.js';
import { toSqsRecord } from './events.js';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface LocalBatchItems {
  /** Messages received MAX_RECEIVE_COUNT times without success: where the queue's redrive policy would move them. */
  deadLetters: BatchItemMessage[];
  /** Resolves once nothing is waiting or being delivered. */
  drained: () => Promise<void>;
  /** Stops delivering and waits for the deliveries in flight. */
  stop: () => Promise<void>;
}

export const installLocalBatchItems = (
  handlers: ReadonlyMap<string, QueueHandler>,
  options: { concurrency?: number; retryAfterMs?: number } = {},
): LocalBatchItems => {
  const waiting: Array<{ operation: string; message: BatchItemMessage; receives?: number }> = [];
  const deadLetters: BatchItemMessage[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let active = 0;
  let stopped = false;
  const deliver = async (operation: string, message: BatchItemMessage) => {
    const handler = handlers.get(operation);
    if (handler === undefined) throw new Error(`no handler for batch items of ${operation}`);
    const record = toSqsRecord(JSON.stringify(message), operation, { senderId: `${LOCAL_BATCH_SENDER_ID}:batches` });
    return handler({ Records: [record] }, lambdaContext(operation, 28_000));
  };
  const later = (entry: (typeof waiting)[number], delayMs: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      waiting.push(entry);
      pump();
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };
  const pump = () => {
    while (!stopped && active < (options.concurrency ?? 4) && waiting.length > 0) {
      const next = waiting.shift() as (typeof waiting)[number];
      active += 1;
      deliver(next.operation, next.message)
        .then((response) => {
          if (response.batchItemFailures.length === 0) return;
          // As the queue's redrive policy: after MAX_RECEIVE_COUNT receives a failing message is moved aside.
          const receives = (next.receives ?? 1) + 1;
          if (receives > MAX_RECEIVE_COUNT) deadLetters.push(next.message);
          else later({ ...next, receives }, options.retryAfterMs ?? 1000);
        })
        .catch((error: unknown) => console.error('local batch queue: delivery failed', error))
        .finally(() => {
          active -= 1;
          pump();
        });
    }
  };
  setBatchItemSink((operation, message, delaySeconds) => {
    if (delaySeconds === undefined || delaySeconds === 0) {
      waiting.push({ operation, message });
      pump();
      return;
    }
    // An item put back for later: its delay, or retryAfterMs if that is shorter (tests keep their runs short).
    later({ operation, message }, Math.min(delaySeconds * 1000, options.retryAfterMs ?? delaySeconds * 1000));
  });
  return {
    deadLetters,
    drained: async () => {
      while (active > 0 || waiting.length > 0 || timers.size > 0)
        await new Promise((resolve) => setTimeout(resolve, 50));
    },
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      setBatchItemSink(undefined);
      while (active > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
};
