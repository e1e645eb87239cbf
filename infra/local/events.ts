/**
 * The event path, locally: what EventBridge and SQS do in AWS, done in-process with the shapes AWS delivers.
 * - `POST /local/events` takes PutEvents entries (`{"Entries": [{"Source", "DetailType", "Detail"}]}`), matches them
 *   against the same rules the stack deploys (`<Operation> Requested`), wraps each matched event in an SQS record
 *   as the rule's queue would (the operation's events queue, which only the rule can send to, sent by EventBridge),
 *   and calls the operation's handler with that batch; it answers the batch responses.
 * - `POST /local/queues/<operation>` sends one message straight to an operation's queue, as the local developer.
 * - `GET /local/outcome-events` and `GET /local/dead-letters` show what the handlers published and dead-lettered
 *   (the in-memory sinks of ./sinks.ts, which the runner installs).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ProblemError } from '../../shared/errors.js';
import { requestedDetailType } from '../../shared/events.js';
import type { RouteDefinition } from '../../shared/http/routes.js';
import { jsonResponse, problemResponse } from '../../shared/http/response.js';
import { localEventsQueueArn } from '../../shared/queue/consumer.js';
import { LOCAL_ACCOUNT_ID, lambdaContext, writeResult } from './apigw-event.js';
import { localDeadLetters, localOutcomeEvents } from './sinks.js';

export const LOCAL_EVENTS_PREFIX = '/local/';
const REGION = 'us-east-1';

/** The operation's queue, which anyone allowed by IAM may send to. */
export const queueArn = (operationName: string): string =>
  `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT_ID}:sim-cancel-gateway-${operationName}`;
/** The operation's events queue, which only its EventBridge rule can send to (the consumer's EVENTS_QUEUE_ARN). */
export const eventsQueueArn = (operationName: string): string => localEventsQueueArn(operationName);

/** SenderId of what the local developer (LOCAL_CALLER_ARN, an IAM user) sends: its unique id. */
export const LOCAL_DEVELOPER_SENDER_ID = 'AIDAIENQZJOLO23YVJ4VO';
/**
 * SenderId of what EventBridge delivers, locally. AWS's own is a service identity it does not document, so nothing
 * relies on it: the consumer tells bus events by the queue they arrive on.
 */
export const LOCAL_EVENTBRIDGE_SENDER_ID = 'AIDAEVENTBRIDGELOCAL0';

export interface SqsRecordOptions {
  receiveCount?: number;
  /** `queue`: sent straight to the operation's queue (default); `bus`: delivered by the rule to the events queue. */
  via?: 'queue' | 'bus';
  /** Who sent it (SQS's SenderId): the local developer for `queue`, EventBridge for `bus`, unless given. */
  senderId?: string;
}

/** An SQS record as Lambda's event source mapping delivers it. */
export const toSqsRecord = (body: string, operationName: string, options: SqsRecordOptions = {}): SQSRecord => {
  const now = String(Date.now());
  const bus = options.via === 'bus';
  const senderId = options.senderId ?? (bus ? LOCAL_EVENTBRIDGE_SENDER_ID : LOCAL_DEVELOPER_SENDER_ID);
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID().replaceAll('-', '')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: now,
      SenderId: senderId,
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: bus ? eventsQueueArn(operationName) : queueArn(operationName),
    awsRegion: REGION,
  };
};

/** The event EventBridge delivers to a rule's target for one PutEvents entry. */
export const toEventBridgeEvent = (entry: { Source: string; DetailType: string; Detail: string }) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': entry.DetailType,
  source: entry.Source,
  account: LOCAL_ACCOUNT_ID,
  time: new Date().toISOString(),
  region: REGION,
  resources: [],
  detail: JSON.parse(entry.Detail) as unknown,
});

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const readJson = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProblemError('invalid-request', 'The body must be JSON.', {
      extensions: { errors: [{ path: 'body', message: 'is not valid JSON' }] },
    });
  }
};

export const createLocalEventBus = (routes: Array<{ route: RouteDefinition; handler: unknown }>) => {
  const consumers = routes.flatMap(({ route, handler }) =>
    route.operation === undefined ? [] : [{ operation: route.operation, handler: handler as QueueHandler }],
  );

  const deliver = async (consumer: (typeof consumers)[number], body: string, via: 'queue' | 'bus') => {
    const batch: SQSEvent = { Records: [toSqsRecord(body, consumer.operation.name, { via })] };
    const queue = `sim-cancel-gateway-${consumer.operation.name}${via === 'bus' ? '-events' : ''}`;
    return {
      queue,
      messageId: batch.Records[0]?.messageId,
      batchResponse: await consumer.handler(batch, lambdaContext(consumer.operation.name, 28_000)),
    };
  };

  const putEvents = async (body: unknown) => {
    const entries = (body as { Entries?: unknown }).Entries;
    if (!Array.isArray(entries))
      throw new ProblemError(
        'invalid-request',
        'Send {"Entries": [{"Source", "DetailType", "Detail"}]} as for PutEvents.',
        { extensions: { errors: [{ path: 'Entries', message: 'is required' }] } },
      );
    return Promise.all(
      entries.map(async (raw: { Source?: string; DetailType?: string; Detail?: string }) => {
        const entry = { Source: raw.Source ?? 'local', DetailType: raw.DetailType ?? '', Detail: raw.Detail ?? '{}' };
        const event = toEventBridgeEvent(entry);
        const consumer = consumers.find(
          (candidate) => requestedDetailType(candidate.operation.eventName) === entry.DetailType,
        );
        if (consumer === undefined) return { eventId: event.id, detailType: entry.DetailType, matchedRule: null };
        return {
          eventId: event.id,
          detailType: entry.DetailType,
          matchedRule: `${consumer.operation.name}-requested`,
          ...(await deliver(consumer, JSON.stringify(event), 'bus')),
        };
      }),
    );
  };

  const serve = async (
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    path: string,
  ): Promise<void> => {
    try {
      if (method === 'POST' && path === '/local/events')
        return writeResult(response, jsonResponse(200, { entries: await putEvents(await readJson(request)) }));
      const queue = /^\/local\/queues\/([\w-]+)$/.exec(path)?.[1];
      const consumer = consumers.find((candidate) => candidate.operation.name === queue);
      if (method === 'POST' && consumer !== undefined)
        return writeResult(
          response,
          jsonResponse(200, await deliver(consumer, JSON.stringify(await readJson(request)), 'queue')),
        );
      if (method === 'GET' && path === '/local/outcome-events')
        return writeResult(response, jsonResponse(200, localOutcomeEvents));
      if (method === 'GET' && path === '/local/dead-letters')
        return writeResult(response, jsonResponse(200, localDeadLetters));
      request.resume();
      throw new ProblemError('not-found', `No local route ${method} ${path}.`);
    } catch (error) {
      writeResult(
        response,
        problemResponse(
          error instanceof ProblemError ? error : new ProblemError('internal-error', 'The local event bus failed.'),
        ),
      );
    }
  };

  return { serve };
};
