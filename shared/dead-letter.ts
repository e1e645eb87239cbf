/**
 * Messages that can never succeed (invalid input, a key reused with another payload) go straight to the
 * operation's dead-letter queue with the reason, instead of being retried until SQS gives up: the DLQ then holds
 * exactly what needs a person. Without DEAD_LETTER_QUEUE_URL (local runs) they are kept in memory.
 */
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { config } from './config.js';
import type { ProblemDetails } from './errors.js';

export interface DeadLetter {
  messageId: string;
  body: string;
  problem: ProblemDetails;
}

export const localDeadLetters: DeadLetter[] = [];

let client: SQSClient | undefined;

export const deadLetter = async (letter: DeadLetter): Promise<void> => {
  const queueUrl = config().DEAD_LETTER_QUEUE_URL;
  if (queueUrl === undefined) {
    localDeadLetters.push(letter);
    return;
  }
  client ??= new SQSClient({});
  await client.send(
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
