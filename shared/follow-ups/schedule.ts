/**
 * Follow-ups: durable, delayed checks that drive an operation to a final state (sTN CANCELLING → cancelled, an eSIM Go
 * refund confirmed, an eSIM back from the returns process). Each is one SQS message the function sends to its own
 * operation's queue with a delay (accepted only from the function's own role: shared/queue/consumer.ts); never a timer
 * inside a Lambda. SQS delays at most 15 minutes, so a later check hops: the consumer
 * sends it on with the rest of its delay and changes nothing. Without FOLLOW_UP_QUEUE_URL (local runs) follow-ups go to
 * the sink the local runner installs (infra/local/follow-ups.ts), which delivers them to the handler when due.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import * as z from '../zod.js';
import { config } from '../config.js';
import { sqsClient } from '../sqs.js';

export type FollowUpKind = 'settle' | 'refund' | 'esim-return';

export const followUpMessageSchema = z.strictObject({
  followUp: z.enum(['settle', 'refund', 'esim-return']),
  /** The operation's name: its function's own queue carries it in AWS; the local queue routes by it. */
  operation: z.string().min(1),
  operationId: z.string().min(1),
  /** 1 for the first check; a redelivered message carries the same number, so it is done once. */
  check: z.number().int().positive(),
  dueAt: z.string().datetime({ offset: true }),
  /** Past this the follow-up is over whatever the record says (a record never written cannot keep it going). */
  deadlineAt: z.string().datetime({ offset: true }),
});
export type FollowUpMessage = z.infer<typeof followUpMessageSchema>;

/** SQS's longest message delay. */
export const MAX_DELAY_SECONDS = 900;

/** Where follow-ups go when no queue is configured: `delaySeconds` from now. */
export type FollowUpSink = (message: FollowUpMessage, delaySeconds: number) => void | Promise<void>;

let sink: FollowUpSink | undefined;

/** Installed by the local runner (and the tests and scripts that run handlers in-process); never in Lambda. */
export const setFollowUpSink = (next: FollowUpSink | undefined): void => {
  sink = next;
};

/** The delay before check `check` (1-based): the first delay, doubled each time, capped at the maximum. */
export const backoffSeconds = (check: number): number =>
  Math.min(config().FOLLOW_UP_FIRST_DELAY_SECONDS * 2 ** (check - 1), config().FOLLOW_UP_MAX_DELAY_SECONDS);

/** Sends the follow-up to arrive at its `dueAt`, or after SQS's longest delay if that is later (it then hops on). */
export const sendFollowUp = async (message: FollowUpMessage): Promise<void> => {
  const delaySeconds = Math.min(
    Math.max(Math.ceil((Date.parse(message.dueAt) - Date.now()) / 1000), 0),
    MAX_DELAY_SECONDS,
  );
  const queueUrl = config().FOLLOW_UP_QUEUE_URL;
  if (queueUrl === undefined) {
    if (sink === undefined)
      throw new Error('FOLLOW_UP_QUEUE_URL is not set (and no local sink is installed): the follow-up was not sent');
    await sink(message, delaySeconds);
    return;
  }
  await sqsClient().send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }),
  );
};
