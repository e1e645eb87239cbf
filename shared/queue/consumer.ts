/**
 * The event path of an operation: two SQS queues, one fed directly and one only the operation's EventBridge rule can
 * send to (EVENTS_QUEUE_ARN). Powertools batch processing reports failures per record; records run concurrently up to
 * BATCH_CONCURRENCY. Each record gets the same idempotency as HTTP, scoped by where it came from: a record of the
 * events queue by the bus event's account and source, any other record by its SQS sender. Which queue a record came
 * from is told by its eventSourceARN, never by its body, so no sender can take an event source's keys.
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
import { invalidInput, invalidRequest, toProblemError } from '../errors.js';
import { parseIdempotencyKey, scopedIdentity } from '../http/request.js';
import { type IdempotentRunner, keyHash } from '../idempotency.js';
import { logger, metrics } from '../observability.js';
import type { OperationDefinition } from '../operations/definition.js';
import { type Recorder, createRecorder } from '../operations/pipeline/recorder.js';
import { batchItemMessageSchema } from '../batches/messages.js';
import { processBatchItem } from '../batches/run-item.js';
import { processFollowUp } from '../follow-ups/run.js';
import { type FollowUpMessage, followUpMessageSchema } from '../follow-ups/schedule.js';

/** How a record's zod issues are named in its field errors (dead letters carry them): not the HTTP wording. */
const MESSAGE_ISSUES = { root: 'message', unknownFields: 'listed' } as const;

const envelopeSchema = z.looseObject({
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  id: z.string(),
  detail: z.unknown(),
});

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

/** The local bus's events queue of an operation (`npm start`): in an account no AWS record can come from. */
export const localEventsQueueArn = (operationName: string): string =>
  `arn:aws:sqs:us-east-1:000000000000:sim-cancel-gateway-${operationName}-events`;

/**
 * The queue whose policy lets only the operation's EventBridge rule send (set by the stack). Unset, the local bus's
 * queue: a deployed function without the variable then reads every record as a direct message (bus events are
 * dead-lettered, never given an event source's scope).
 */
const eventsQueueArn = (operationName: string): string =>
  config().EVENTS_QUEUE_ARN ?? localEventsQueueArn(operationName);

/** Who sends follow-ups locally (`npm start`, tests): the local runner's stand-in for the function's role. */
export const LOCAL_FOLLOW_UP_SENDER_ID = 'AROALOCALFOLLOWUPS00';

/**
 * A follow-up is a message on the operation's own queue sent by the function's own role (SenderId
 * `<role id>:<session>`): told by who sent it, never by its body alone.
 */
const fromOwnRole = (record: SQSRecord): boolean =>
  sentByRole(record, [config().FOLLOW_UP_SENDER_ID ?? LOCAL_FOLLOW_UP_SENDER_ID]);

/** Whether a role's session sent the record: SQS's SenderId for one is `<role id>:<session name>`. */
const sentByRole = (record: SQSRecord, roleIds: readonly string[]): boolean => {
  const sender = record.attributes?.SenderId ?? '';
  return roleIds.some((roleId) => sender === roleId || sender.startsWith(`${roleId}:`));
};

/** Whether the record's body is a JSON object with this field (a follow-up's or a batch item's). */
const hasField = (record: SQSRecord, field: 'followUp' | 'batchItem'): boolean => {
  try {
    const body = JSON.parse(record.body) as unknown;
    return typeof body === 'object' && body !== null && field in body;
  } catch {
    return false;
  }
};

/** Who starts batch items locally (`npm start`, tests): the local runner's stand-in for the batch functions' roles. */
export const LOCAL_BATCH_SENDER_ID = 'AROALOCALBATCHES0000';

/** A batch item is accepted only from the roles of the functions that start them (create and confirm). */
const fromBatchFunctions = (record: SQSRecord): boolean =>
  sentByRole(record, (config().BATCH_SENDER_IDS ?? LOCAL_BATCH_SENDER_ID).split(','));

/**
 * A record of the events queue is a whole EventBridge event (rules deliver the event) and is scoped by its account
 * and source. Any other record was sent straight to the operation's queue: its body is the message, scoped by its
 * sender (`sqs:<SenderId>`, a role's sessions one sender unless CALLER_SCOPE=session), and never read as an event.
 */
const readMessage = (
  record: SQSRecord,
  operationName: string,
): { message: unknown; caller: string; source: string; defaultKey: string } => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw invalidRequest([{ path: 'body', message: 'is not valid JSON' }]);
  }
  const envelope = envelopeSchema.safeParse(body);
  if (record.eventSourceARN === eventsQueueArn(operationName)) {
    if (!envelope.success) throw invalidInput(envelope.error.issues, MESSAGE_ISSUES);
    const { source, account, id, detail } = envelope.data;
    return { message: detail, caller: `events:${account}:${source}`, source: 'eventbridge', defaultKey: id };
  }
  if (envelope.success) {
    throw invalidRequest([
      {
        path: 'detail-type',
        message:
          'is an EventBridge event\'s field: events are accepted only from the bus (PutEvents); a message sent to the queue is {"idempotencyKey", "input"}',
      },
    ]);
  }
  const sender = record.attributes?.SenderId;
  if (sender === undefined || sender === '')
    throw invalidRequest([
      { path: 'attributes.SenderId', message: 'is missing: a direct message is scoped by its sender' },
    ]);
  return { message: body, caller: `sqs:${scopedIdentity(sender)}`, source: 'sqs', defaultKey: record.messageId };
};

export const createQueueConsumer = <Input extends Record<string, unknown>>(
  definition: OperationDefinition<Input>,
  runIdempotently: IdempotentRunner<Input>,
) => {
  const messageSchema = z.strictObject({ idempotencyKey: z.string().optional(), input: definition.input });
  const processor = new BatchProcessor(EventType.SQS);
  const limit = limiter(config().BATCH_CONCURRENCY);

  const processRecord = async (record: SQSRecord, context: Context, recorder: Recorder): Promise<void> => {
    const direct = record.eventSourceARN !== eventsQueueArn(definition.name);
    if (direct && hasField(record, 'followUp') && fromOwnRole(record))
      return processFollowUpRecord(record, context, recorder);
    if (direct && hasField(record, 'batchItem') && fromBatchFunctions(record)) {
      const message = batchItemMessageSchema.parse(JSON.parse(record.body));
      return processBatchItem(
        definition as OperationDefinition,
        message,
        runIdempotently as IdempotentRunner<Record<string, unknown>>,
        context,
        recorder,
      );
    }
    try {
      const { message, caller, source, defaultKey } = readMessage(record, definition.name);
      const parsed = messageSchema.safeParse(message);
      if (!parsed.success) throw invalidInput(parsed.error.issues, MESSAGE_ISSUES);
      const input = parsed.data.input as Input;
      if (definition.isDryRun(input))
        throw invalidRequest([{ path: 'input.dryRun', message: 'dry runs are answered over HTTP only' }]);
      const key = parseIdempotencyKey(parsed.data.idempotencyKey ?? defaultKey) as string;
      const result = await runIdempotently(
        { scope: { caller, key }, input, meta: { source, keyHash: keyHash(key) } },
        context,
        recorder,
      );
      metrics.addMetric('QueueRecordsAnswered', 'Count', 1);
      logger.info('queued operation answered', {
        messageId: record.messageId,
        statusCode: result.statusCode,
        replayed: result.replayed === true,
        operationId: result.body.operationId,
      });
    } catch (error) {
      const problem = toProblemError(error);
      if (problem.status === 400 || problem.kind === 'idempotency-key-reused') {
        logger.warn('message can never succeed: sent to the dead-letter queue', {
          messageId: record.messageId,
          problem: problem.kind,
          detail: problem.detail,
        });
        await deadLetter({ messageId: record.messageId, body: record.body, problem: problem.toProblem() }).catch(
          (failure: unknown) => {
            // Reported as failed instead: SQS redelivers it, and its redrive policy still gets it to the DLQ.
            logger.error('message not dead-lettered: it will be retried', {
              messageId: record.messageId,
              error: failure as Error,
            });
            throw failure;
          },
        );
        metrics.addMetric('QueueRecordsDeadLettered', 'Count', 1);
        return;
      }
      metrics.addMetric('QueueRecordsRetried', 'Count', 1);
      logger.warn('message will be retried', {
        messageId: record.messageId,
        problem: problem.kind,
        status: problem.status,
      });
      throw problem;
    }
  };

  /** A follow-up: retried by SQS on any failure (a provider down is the check's own business, not a failure). */
  const processFollowUpRecord = async (record: SQSRecord, context: Context, recorder: Recorder): Promise<void> => {
    let message: FollowUpMessage;
    try {
      message = followUpMessageSchema.parse(JSON.parse(record.body));
    } catch {
      const problem = invalidRequest([{ path: 'body', message: 'is not a follow-up message' }]);
      logger.warn('follow-up message unreadable: sent to the dead-letter queue', { messageId: record.messageId });
      await deadLetter({ messageId: record.messageId, body: record.body, problem: problem.toProblem() });
      metrics.addMetric('QueueRecordsDeadLettered', 'Count', 1);
      return;
    }
    await processFollowUp(definition as OperationDefinition, message, context, recorder);
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const recorder = createRecorder();
    const response = await processPartialResponse(
      event,
      (record: SQSRecord) => limit(() => processRecord(record, context, recorder)),
      processor,
      { context, processInParallel: true, throwOnFullBatchFailure: false },
    );
    await recorder.settle();
    return response;
  };
};
