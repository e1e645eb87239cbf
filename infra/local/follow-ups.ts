/**
 * The follow-up queues, locally: what SQS delayed messages do in AWS, done in-process. A follow-up the handler sends
 * (no FOLLOW_UP_QUEUE_URL) is kept and, when its delay has passed, delivered to its operation's handler as the record
 * Lambda's event source mapping would deliver from the operation's queue, sent by the function's own role. A record the handler reports failed comes
 * back after `retryAfterMs`, as SQS's visibility timeout would bring it back. `npm start` and the tests use it.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type FollowUpMessage, setFollowUpSink } from '../../shared/follow-ups/schedule.js';
import { LOCAL_FOLLOW_UP_SENDER_ID } from '../../shared/queue/consumer.js';
import { lambdaContext } from './apigw-event.js';
import { toSqsRecord } from './events.js';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface LocalFollowUps {
  /** Every follow-up sent so far, oldest first, with when it was due. */
  sent: Array<{ message: FollowUpMessage; dueAtMs: number }>;
  /** Delivers a message now, as a redelivery would (tests). */
  deliver: (message: FollowUpMessage) => Promise<SQSBatchResponse>;
  /** Stops delivering and waits for the deliveries in flight (their writes must land before DynamoDB stops). */
  stop: () => Promise<void>;
}

export const installLocalFollowUps = (
  handlers: ReadonlyMap<string, QueueHandler>,
  options: { retryAfterMs?: number } = {},
): LocalFollowUps => {
  const timers = new Set<NodeJS.Timeout>();
  const sent: LocalFollowUps['sent'] = [];
  const after = (ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timer.unref();
    timers.add(timer);
  };
  const deliver = async (message: FollowUpMessage): Promise<SQSBatchResponse> => {
    const handler = handlers.get(message.operation);
    if (handler === undefined) throw new Error(`no handler for follow-ups of ${message.operation}`);
    const event: SQSEvent = {
      Records: [
        toSqsRecord(JSON.stringify(message), message.operation, {
          senderId: `${LOCAL_FOLLOW_UP_SENDER_ID}:${message.operation}`,
        }),
      ],
    };
    return handler(event, lambdaContext(message.operation, 28_000));
  };
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  const deliverWithRetries = (message: FollowUpMessage) => {
    if (stopped) return;
    const delivery = deliver(message)
      .then((response) => {
        if (response.batchItemFailures.length > 0)
          after(options.retryAfterMs ?? 1000, () => deliverWithRetries(message));
      })
      .catch((error: unknown) => console.error('local follow-up queue: delivery failed', error))
      .finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
  };
  setFollowUpSink((message, delaySeconds) => {
    sent.push({ message, dueAtMs: Date.now() + delaySeconds * 1000 });
    after(delaySeconds * 1000, () => deliverWithRetries(message));
  });
  return {
    sent,
    deliver,
    stop: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      setFollowUpSink(undefined);
      await Promise.all(inFlight);
    },
  };
};
