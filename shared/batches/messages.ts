/**
 * A batch item's work goes to its operation's own queue (the distributed path every message takes, paced by the
 * operation's event source mapping and its client's rate limiter) as `{"batchItem": {batchId, index, phase}}`. The
 * consumer accepts it only from the batch functions' roles (BATCH_SENDER_IDS), so nobody else can start an item; the
 * item's input and its caller are read from the batches table, never from the message. Without BATCH_QUEUE_URLS
 * (locally) the messages go to the sink the local runner installs.
 */
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import * as z from '../zod.js';
import { config } from '../config.js';
import { sqsClient } from '../sqs.js';
import { eachInFlight } from './in-flight.js';

export const batchItemMessageSchema = z.strictObject({
  batchItem: z.strictObject({
    batchId: z.string().regex(/^b_[0-9a-f]{32}$/),
    index: z.number().int().nonnegative(),
    /** `watch`: a look at an `in_progress` item, in case its operation's follow-ups stopped (run-item.ts). */
    phase: z.enum(['preview', 'run', 'watch']),
    /** How many times the item was put back for later (a throttled provider, a busy eSIM): its backoff. */
    attempt: z.number().int().positive().optional(),
  }),
});
export type BatchItemMessage = z.infer<typeof batchItemMessageSchema>;

export type BatchItemSink = (
  operation: string,
  message: BatchItemMessage,
  delaySeconds?: number,
) => void | Promise<void>;
let sink: BatchItemSink | undefined;

/** Installed by the local runner (and the tests that run handlers in-process); never in Lambda. */
export const setBatchItemSink = (next: BatchItemSink | undefined): void => {
  sink = next;
};

/** `{"<operation>": "<queue url>"}`, set by the stack on the functions that start batch items. */
const queueUrls = (): Record<string, string> | undefined => {
  const raw = config().BATCH_QUEUE_URLS;
  return raw === undefined ? undefined : (JSON.parse(raw) as Record<string, string>);
};

/** SendMessageBatch calls (ten messages each) in flight at once. */
const SENDS_IN_FLIGHT = 16;

/** sendBatchItems did not get every message taken: those before `sent` all were (some after it may have been too). */
export class BatchItemsNotSent extends Error {
  override name = 'BatchItemsNotSent';
  constructor(
    message: string,
    readonly sent: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Sends the items' messages, ten per SQS call, SENDS_IN_FLIGHT calls at a time; rejects with BatchItemsNotSent if any
 * was not taken, once no call is in flight any more (the caller records the prefix that went out).
 */
export const sendBatchItems = async (operation: string, messages: readonly BatchItemMessage[]): Promise<void> => {
  const urls = queueUrls();
  if (urls === undefined) {
    if (sink === undefined) throw new Error('BATCH_QUEUE_URLS is not set (and no local sink is installed)');
    for (const [index, message] of messages.entries()) {
      try {
        await sink(operation, message);
      } catch (error) {
        throw new BatchItemsNotSent(`the local sink did not take batch item ${index}`, index, { cause: error });
      }
    }
    return;
  }
  const queueUrl = urls[operation];
  if (queueUrl === undefined) throw new Error(`no queue for ${operation} in BATCH_QUEUE_URLS`);
  const chunks = Array.from({ length: Math.ceil(messages.length / 10) }, (_, index) =>
    messages.slice(index * 10, index * 10 + 10),
  );
  const taken = chunks.map(() => false);
  try {
    await eachInFlight(chunks, SENDS_IN_FLIGHT, async (chunk, index) => {
      const result = await sqsClient().send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, entry) => ({ Id: String(entry), MessageBody: JSON.stringify(message) })),
        }),
      );
      if ((result.Failed ?? []).length > 0) throw new Error(`SQS did not take ${result.Failed?.length} batch items`);
      taken[index] = true;
    });
  } catch (error) {
    const sent = (taken.includes(false) ? taken.indexOf(false) : chunks.length) * 10;
    throw new BatchItemsNotSent(`${(error as Error).message} (the first ${sent} were all taken)`, sent, {
      cause: error,
    });
  }
};

/**
 * Puts an item back on its operation's own queue for later (BATCH_RETRY_QUEUE_URL, set by the stack): a new message
 * with a delay, sent by the operation's own role (one of BATCH_SENDER_IDS), so an item that waits never uses up its
 * message's receive count and never reaches the dead-letter queue for being throttled. Rejects if SQS did not take it.
 */
export const sendBatchItemLater = async (
  operation: string,
  message: BatchItemMessage,
  delaySeconds: number,
): Promise<void> => {
  const queueUrl = config().BATCH_RETRY_QUEUE_URL;
  if (queueUrl === undefined) {
    if (sink === undefined) throw new Error('BATCH_RETRY_QUEUE_URL is not set (and no local sink is installed)');
    await sink(operation, message, delaySeconds);
    return;
  }
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }),
  );
};
