/** The one SQS client of this process, made on first use (most invocations send nothing to SQS). */
import { SQSClient } from '@aws-sdk/client-sqs';

let client: SQSClient | undefined;

export const sqsClient = (): SQSClient => (client ??= new SQSClient({}));

/** Receives of one message before the queue's redrive policy moves it to the dead-letter queue (the stack's setting). */
export const MAX_RECEIVE_COUNT = 5;
