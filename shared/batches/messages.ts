/**
 * A batch item's work goes to its operation's own queue (the distributed path every message takes, paced by the
 * operation's event source mapping and its client's rate limiter) as `{"batchItem": {batchId, index, phase}}`. The
 * consumer accepts it only from the batch functions' roles (BATCH_SENDER_IDS), so nobody else can start an item; the
 * item's input and its caller are read from the batches table, never from the message. Without BATCH_QUEUE_URLS
 * (locally) the messages go to the sink the local runner installs.
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import * as z from '../zod.js';
import { config } from '../config.js';
import { sqsClient } from '../sqs.js';

export const batchItemMessageSchema = z.strictObject({
  batchItem: z.strictObject({
    batchId: z.string().regex(/^b_[0-9a-f]{32}$/),
    index: z.number().int().nonnegative(),
    phase: z.enum(['preview', 'run']),
  }),
});
export type BatchItemMessage = z.infer<typeof batchItemMessageSchema>;

export type BatchItemSink = (operation: string, message: BatchItemMessage) => void | Promise<void>;
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

/** Sends the items' messages, ten per SQS call; rejects if any was not taken (the caller records what went out). */
export const sendBatchItems = async (operation: string, messages: readonly BatchItemMessage[]): Promise<void> => {
  const urls = queueUrls();
  if (urls === undefined) {
    if (sink === undefined) throw new Error('BATCH_QUEUE_URLS is not set (and no local sink is installed)');
    for (const message of messages) await sink(operation, message);
    return;
  }
  const queueUrl = urls[operation];
  if (queueUrl === undefined) throw new Error(`no queue for ${operation} in BATCH_QUEUE_URLS`);
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    const result = await sqsClient().send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })),
      }),
    );
    if ((result.Failed ?? []).length > 0) throw new Error(`SQS did not take ${result.Failed?.length} batch items`);
  }
};
