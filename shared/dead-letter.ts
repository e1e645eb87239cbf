/**
 * Messages that can never succeed (invalid input, a key reused with another payload) go straight to the
 * operation's dead-letter queue with the reason, instead of being retried until SQS gives up: the DLQ then holds
 * exactly what needs a person. Without DEAD_LETTER_QUEUE_URL (local runs) they go to the sink the local runner
 * installs (infra/local/sinks.ts); without either, dead-lettering fails and the consumer reports the record as failed,
 * so SQS retries it and its redrive policy still moves it to the DLQ.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { config } from './config.js';
import type { ProblemDetails } from './errors.js';
import { sqsClient } from './sqs.js';

export interface DeadLetter {
  messageId: string;
  body: string;
  problem: ProblemDetails;
}

/** Where dead letters go when no queue is configured. */
export type DeadLetterSink = (letter: DeadLetter) => void | Promise<void>;

let sink: DeadLetterSink | undefined;

/** Installed by the local runner (and the tests and scripts that run handlers in-process); never in Lambda. */
export const setDeadLetterSink = (next: DeadLetterSink | undefined): void => {
  sink = next;
};

export const deadLetter = async (letter: DeadLetter): Promise<void> => {
  const queueUrl = config().DEAD_LETTER_QUEUE_URL;
  if (queueUrl === undefined) {
    if (sink === undefined)
      throw new Error(
        'DEAD_LETTER_QUEUE_URL is not set (and no local sink is installed): the message was not dead-lettered',
      );
    await sink(letter);
    return;
  }
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: letter.body,
      MessageAttributes: {
        problem: { DataType: 'String', StringValue: JSON.stringify(letter.problem).slice(0, 4000) },
        originalMessageId: { DataType: 'String', StringValue: letter.messageId },
      },
    }),
  );
};
