/**
 * The event path, locally: what EventBridge and SQS do in AWS, done in-process with the shapes AWS delivers.
 * - `POST /local/events` takes PutEvents entries (`{"Entries": [{"Source", "DetailType", "Detail"}]}`), matches them
 *   against the same rules the stack deploys (`<Operation> Requested`), wraps each matched event in an SQS record
 *   as the rule's queue would, and calls the operation's handler with that batch; it answers the batch responses.
 * - `POST /local/queues/<operation>` sends one message straight to an operation's queue.
 * - `GET /local/outcome-events` and `GET /local/dead-letters` show what the handlers published and dead-lettered.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { localDeadLetters } from '../../shared/dead-letter.js';
import { ProblemError } from '../../shared/errors.js';
import { localOutcomeEvents, requestedDetailType } from '../../shared/events.js';
import type { RouteDefinition } from '../../shared/http/routes.js';
import { jsonResponse, problemResponse } from '../../shared/http/response.js';
import { LOCAL_ACCOUNT_ID, lambdaContext, writeResult } from './apigw-event.js';

export const LOCAL_EVENTS_PREFIX = '/local/';
const REGION = 'us-east-1';

export const queueArn = (operationName: string): string => `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT_ID}:sim-cancel-gateway-${operationName}`;

/** An SQS record as Lambda's event source mapping delivers it. */
export const toSqsRecord = (body: string, operationName: string, receiveCount = 1): SQSRecord => {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID().replaceAll('-', '')}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: now, SenderId: 'AIDAIENQZJOLO23YVJ4VO', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(operationName),
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
    throw new ProblemError('invalid-request', 'The body must be JSON.', { extensions: { errors: [{ path: 'body', message: 'is not valid JSON' }] } });
  }
};

export const createLocalEventBus = (routes: Array<{ route: RouteDefinition; handler: unknown }>) => {
  const consumers = routes.flatMap(({ route, handler }) => (route.operation === undefined ? [] : [{ operation: route.operation, handler: handler as QueueHandler }]));

  const deliver = async (consumer: (typeof consumers)[number], body: string) => {
    const batch: SQSEvent = { Records: [toSqsRecord(body, consumer.operation.name)] };
    return { queue: `sim-cancel-gateway-${consumer.operation.name}`, messageId: batch.Records[0]?.messageId, batchResponse: await consumer.handler(batch, lambdaContext(consumer.operation.name, 28_000)) };
  };

  const putEvents = async (body: unknown) => {
    const entries = (body as { Entries?: unknown }).Entries;
    if (!Array.isArray(entries)) throw new ProblemError('invalid-request', 'Send {"Entries": [{"Source", "DetailType", "Detail"}]} as for PutEvents.', { extensions: { errors: [{ path: 'Entries', message: 'is required' }] } });
    return Promise.all(
      entries.map(async (raw: { Source?: string; DetailType?: string; Detail?: string }) => {
        const entry = { Source: raw.Source ?? 'local', DetailType: raw.DetailType ?? '', Detail: raw.Detail ?? '{}' };
        const event = toEventBridgeEvent(entry);
        const consumer = consumers.find((candidate) => requestedDetailType(candidate.operation.eventName) === entry.DetailType);
        if (consumer === undefined) return { eventId: event.id, detailType: entry.DetailType, matchedRule: null };
        return { eventId: event.id, detailType: entry.DetailType, matchedRule: `${consumer.operation.name}-requested`, ...(await deliver(consumer, JSON.stringify(event))) };
      }),
    );
  };

  const serve = async (request: IncomingMessage, response: ServerResponse, method: string, path: string): Promise<void> => {
    try {
      if (method === 'POST' && path === '/local/events') return writeResult(response, jsonResponse(200, { entries: await putEvents(await readJson(request)) }));
      const queue = /^\/local\/queues\/([\w-]+)$/.exec(path)?.[1];
      const consumer = consumers.find((candidate) => candidate.operation.name === queue);
      if (method === 'POST' && consumer !== undefined) return writeResult(response, jsonResponse(200, await deliver(consumer, JSON.stringify(await readJson(request)))));
      if (method === 'GET' && path === '/local/outcome-events') return writeResult(response, jsonResponse(200, localOutcomeEvents));
      if (method === 'GET' && path === '/local/dead-letters') return writeResult(response, jsonResponse(200, localDeadLetters));
      request.resume();
      throw new ProblemError('not-found', `No local route ${method} ${path}.`);
    } catch (error) {
      writeResult(response, problemResponse(error instanceof ProblemError ? error : new ProblemError('internal-error', 'The local event bus failed.')));
    }
  };

  return { serve };
};
