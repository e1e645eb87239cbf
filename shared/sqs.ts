/** The one SQS client of this process, made on first use (most invocations send nothing to SQS). */
import { SQSClient } from '@aws-sdk/client-sqs';

let client: SQSClient | undefined;

export const sqsClient = (): SQSClient => (client ??= new SQSClient({}));
