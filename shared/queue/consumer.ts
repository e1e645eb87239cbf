/**
 * The event path of an operation: its SQS queue, fed directly or by EventBridge rules. Powertools batch processing
 * reports failures per record; records run concurrently up to BATCH_CONCURRENCY. Each record gets the same
 * idempotency as HTTP, scoped by its event source (the bus's source and account, or the queue).
 * A record ends one of three ways:
 * - a final answer (success or a definitive rejection): done, deleted from the queue;
 * - a retryable failure (provider unknown/throttled/unreachable, key in flight): reported, SQS redelivers it;
 * - it can never succeed (invalid message, key reused): sent to the DLQ with the reason, without retries.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from '../zod.js';
import { config } from '../config.js';
import { deadLetter } from '../dead-letter.js';
import { invalidRequest, toProblemError } from '../errors.js';
import { parseIdempotencyKey } from '../http/request.js';
import { type IdempotentRequest, type IdempotentResult, keyHash } from '../idempotency.js';
import { logger, metrics } from '../observability.js';
import type { OperationDefinition } from '../operations/definition.js';
import { settleRecords } from '../operations/run.js';

type Runner<Input> = (request: IdempotentRequest<Input>, context: Context) => Promise<IdempotentResult>;

const envelopeSchema = z.looseObject({ 'detail-type': z.string(), source: z.string(), account: z.string(), id: z.string(), detail: z.unknown() });

/** At most `limit` tasks at once; the rest wait in order. */
const limiter = (limit: number) => {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
};

/** Unwraps an EventBridge event (rules deliver the whole event) or takes a plain SQS message as it is. */
const readMessage = (record: SQSRecord): { message: unknown; caller: string; source: string; defaultKey: string } => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw invalidRequest([{ path: 'body', message: 'is not valid JSON' }]);
  }
  const envelope = envelopeSchema.safeParse(body);
  if (envelope.success) {
    const { source, account, id, detail } = envelope.data;
    return { message: detail, caller: `events:${account}:${source}`, source: 'eventbridge', defaultKey: id };
  }
  return { message: body, caller: record.eventSourceARN, source: 'sqs', defaultKey: record.messageId };
};

const issuesToErrors = (issues: readonly z.core.$ZodIssue[]) =>
  issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : 'message',
    message: issue.code === 'unrecognized_keys' ? `has unknown fields ${issue.keys.join(', ')}` : issue.message,
  }));

export const createQueueConsumer = <Input extends Record<string, unknown>>(definition: OperationDefinition<Input>, runIdempotently: Runner<Input>) => {
  const messageSchema = z.strictObject({ idempotencyKey: z.string().optional(), input: definition.input });
  const processor = new BatchProcessor(EventType.SQS);
  const limit = limiter(config().BATCH_CONCURRENCY);

  const handleRecord = async (record: SQSRecord, context: Context): Promise<void> => {
    try {
      const { message, caller, source, defaultKey } = readMessage(record);
      const parsed = messageSchema.safeParse(message);
      if (!parsed.success) throw invalidRequest(issuesToErrors(parsed.error.issues));
      const input = parsed.data.input as Input;
      if (definition.isDryRun(input)) throw invalidRequest([{ path: 'input.dryRun', message: 'dry runs are answered over HTTP only' }]);
      const key = parseIdempotencyKey(parsed.data.idempotencyKey ?? defaultKey) as string;
      const result = await runIdempotently({ scope: { caller, key }, input, meta: { source, keyHash: keyHash(key) } }, context);
      metrics.addMetric('QueueRecordsAnswered', 'Count', 1);
      logger.info('queued operation answered', { messageId: record.messageId, statusCode: result.statusCode, replayed: result.replayed === true, operationId: result.body.operationId });
    } catch (error) {
      const problem = toProblemError(error);
      if (problem.status === 400 || problem.kind === 'idempotency-key-reused') {
        logger.warn('message can never succeed: sent to the dead-letter queue', { messageId: record.messageId, problem: problem.kind, detail: problem.detail });
        await deadLetter({ messageId: record.messageId, body: record.body, problem: problem.toProblem() });
        metrics.addMetric('QueueRecordsDeadLettered', 'Count', 1);
        return;
      }
      metrics.addMetric('QueueRecordsRetried', 'Count', 1);
      logger.warn('message will be retried', { messageId: record.messageId, problem: problem.kind, status: problem.status });
      throw problem;
    }
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const response = await processPartialResponse(event, (record: SQSRecord) => limit(() => handleRecord(record, context)), processor, { context, processInParallel: true, throwOnFullBatchFailure: false });
    await settleRecords();
    return response;
  };
};
