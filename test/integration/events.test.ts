/**
 * The event path against DynamoDB Local and the sTN/eSIM Go simulators: SQS batches as Lambda delivers them (plain
 * messages sent straight to the operation's queue, and EventBridge events the rule delivers to its events queue),
 * outcome events, the audit trail and its owner-only read route.
 */
import { readFileSync } from 'node:fs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { LOCAL_CALLER_ARN, lambdaContext } from '../../infra/local/apigw-event.js';
import { LOCAL_DEVELOPER_SENDER_ID, toEventBridgeEvent, toSqsRecord } from '../../infra/local/events.js';
import { installLocalSinks, localDeadLetters, localOutcomeEvents } from '../../infra/local/sinks.js';
import { resetConfigCache } from '../../shared/config.js';
import { stableEventId } from '../../shared/events.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { type Handler, configureEnvironment, invoke, newTable, startStn } from '../../testkit/harness.js';

type QueueHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

let stn: StnSimulator;
let handler: Handler & QueueHandler;
let definition: OperationDefinition;
let getOperation: Handler;
let serial = 0;

const newActivation = (status = 'BUSY') => {
  const id = `evt${(serial += 1)}${Math.random().toString(36).slice(2, 10)}`;
  stn.addActivation(activation(id, status));
  return id;
};
/** A message sent straight to the operation's queue (by the local developer unless `senderId` says otherwise). */
const message = (body: unknown, senderId?: string) =>
  toSqsRecord(typeof body === 'string' ? body : JSON.stringify(body), 'cancel-activation', { senderId });
/** A PutEvents entry as the rule delivers it: the whole event, on the operation's events queue. */
const busEvent = (source: string, detail: unknown) =>
  toSqsRecord(
    JSON.stringify(
      toEventBridgeEvent({ Source: source, DetailType: 'Cancel Activation Requested', Detail: JSON.stringify(detail) }),
    ),
    'cancel-activation',
    { via: 'bus' },
  );
const outcomeFor = (id: string) => localOutcomeEvents.filter((outcome) => outcome.detail.target === `activation:${id}`);
const consume = (records: SQSEvent['Records']) =>
  handler({ Records: records }, lambdaContext('cancel-activation', 28_000));
const effects = (id: string) => stn.cancellations().filter((cancellation) => cancellation.activationId === id).length;
const readOperation = (operationId: string, caller?: string) =>
  invoke(
    getOperation,
    { name: 'get-operation', route: { method: 'GET', path: '/v1/operations/{operationId}' } } as OperationDefinition,
    { method: 'GET', path: `/v1/operations/${operationId}`, caller },
  );

beforeAll(async () => {
  installLocalSinks();
  stn = await startStn({ seed: false, requestsPerSecond: 10_000 });
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: '400',
    RECONCILE_AFTER_MS: '1',
    BATCH_CONCURRENCY: '5',
  });
  ({ handler } = (await import('../../functions/cancel-activation/index.js')) as unknown as {
    handler: Handler & QueueHandler;
  });
  ({ cancelActivation: definition } =
    (await import('../../shared/operations/cancel-activation/index.js')) as unknown as {
      cancelActivation: OperationDefinition;
    });
  ({ handler: getOperation } = (await import('../../functions/get-operation/index.js')) as { handler: Handler });
});
afterAll(async () => stn.server.stop());
beforeEach(() => {
  stn.server.clearFaults();
  stn.server.latencyMs = 0;
  localDeadLetters.length = 0;
});

describe('SQS consumer', () => {
  it('reads the record shape Lambda delivers (AWS sample event)', async () => {
    const sample = JSON.parse(readFileSync(new URL('../fixtures/sqs-event.json', import.meta.url), 'utf8')) as SQSEvent;
    const id = newActivation();
    const record = sample.Records[0];
    if (record === undefined) throw new Error('fixture has a record');
    record.body = JSON.stringify({ idempotencyKey: `sample-${id}`, input: { activationId: id } });
    expect(Object.keys(message({})).sort()).toEqual(Object.keys(record).sort());
    expect(await consume([record])).toEqual({ batchItemFailures: [] });
    expect(effects(id)).toBe(1);
  });

  it('reports exactly the failing records of a mixed batch and dead-letters the hopeless ones without retries', async () => {
    const valid = newActivation();
    const done = newActivation('DONE');
    const failing = newActivation();
    stn.server.injectFault({ kind: 'status', status: 500, matching: failing, path: '/api/CancelNewSubscription' });
    const records = [
      message({ idempotencyKey: `k-${valid}`, input: { activationId: valid } }),
      message({ idempotencyKey: 'k-invalid', input: { activationId: 'x', note: 'n'.repeat(165) } }),
      message('not json at all'),
      message({ input: { activationId: done } }),
      message({ idempotencyKey: `k-${failing}`, input: { activationId: failing } }),
    ];
    const response = await consume(records);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[4]?.messageId }]);
    expect(effects(valid)).toBe(1);
    expect(effects(done)).toBe(0);
    expect(localDeadLetters.map((letter) => letter.messageId).sort()).toEqual(
      [records[1]?.messageId, records[2]?.messageId].sort(),
    );
    expect(localDeadLetters.find((letter) => letter.messageId === records[1]?.messageId)?.problem.errors).toEqual([
      expect.objectContaining({ path: 'input.note' }),
    ]);
    // Nothing lost: each record is done (deleted), dead-lettered, or reported for redelivery.
    const reported = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const deadLettered = new Set(localDeadLetters.map((letter) => letter.messageId));
    const finished = records.filter((record) => !reported.has(record.messageId) && !deadLettered.has(record.messageId));
    expect(finished.map((record) => record.messageId)).toEqual([records[0]?.messageId, records[3]?.messageId]);
    expect(finished.length + reported.size + deadLettered.size).toBe(records.length);

    // SQS redelivers the failing record (same message, same key): this time it succeeds, once.
    const redelivered = await consume([
      {
        ...(records[4] as SQSEvent['Records'][number]),
        attributes: { ...records[4]?.attributes, ApproximateReceiveCount: '2' } as never,
      },
    ]);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(effects(failing)).toBe(1);
  });

  it('causes one provider effect for duplicates within and across batches', async () => {
    const id = newActivation();
    const body = { idempotencyKey: `dup-${id}`, input: { activationId: id } };
    stn.server.latencyMs = 150;
    const first = await consume([message(body), message(body)]);
    // The duplicate in the same batch finds the key in flight and is retried by SQS.
    expect(first.batchItemFailures).toHaveLength(1);
    stn.server.latencyMs = 0;
    expect((await consume([message(body)])).batchItemFailures).toEqual([]);
    expect((await consume([message(body)])).batchItemFailures).toEqual([]);
    expect(effects(id)).toBe(1);
  });

  it('takes the key from an EventBridge event id when the detail has none, scoped by the event source', async () => {
    const id = newActivation();
    const record = busEvent('shop.orders', { input: { activationId: id } });
    expect((await consume([record])).batchItemFailures).toEqual([]);
    expect((await consume([{ ...record, messageId: 'redelivered-copy' }])).batchItemFailures).toEqual([]);
    expect(effects(id)).toBe(1);
    const published = localOutcomeEvents.filter((outcome) => outcome.detail.target === `activation:${id}`);
    expect(published).toHaveLength(1);
    expect(published[0]?.detail).toMatchObject({
      caller: 'events:000000000000:shop.orders',
      source: 'eventbridge',
      status: 'in_progress',
    });
  });

  it("never lets a message sent straight to the queue take an event source's key: the real bus event afterwards succeeds", async () => {
    const victim = newActivation();
    const decoy = newActivation();
    const key = `order-${victim}`;
    // Shaped exactly like what the rule delivers for shop.orders, but sent to the operation's queue.
    const forged = message(
      toEventBridgeEvent({
        Source: 'shop.orders',
        DetailType: 'Cancel Activation Requested',
        Detail: JSON.stringify({ idempotencyKey: key, input: { activationId: decoy } }),
      }),
    );
    expect((await consume([forged])).batchItemFailures).toEqual([]);
    expect(effects(decoy)).toBe(0);
    expect(outcomeFor(decoy)).toEqual([]);
    const letter = localDeadLetters.find((candidate) => candidate.messageId === forged.messageId);
    expect(letter?.problem.type).toMatch(/invalid-request$/);
    expect(letter?.problem.errors).toEqual([expect.objectContaining({ path: 'detail-type' })]);

    // The bus then delivers shop.orders' own event with that key: its key is untouched, so it runs (not 422 key reused).
    const real = busEvent('shop.orders', { idempotencyKey: key, input: { activationId: victim } });
    expect((await consume([real])).batchItemFailures).toEqual([]);
    expect(effects(victim)).toBe(1);
    expect(localDeadLetters.map((candidate) => candidate.messageId)).not.toContain(real.messageId);
    expect(outcomeFor(victim).map((outcome) => outcome.detail)).toEqual([
      expect.objectContaining({
        caller: 'events:000000000000:shop.orders',
        source: 'eventbridge',
        status: 'in_progress',
      }),
    ]);
  });

  it("scopes bus events by their source and direct messages by their sender (a role's sessions are one sender)", async () => {
    const key = `shared-${newActivation()}`;
    const [fromShop, fromCrm, fromDeveloper, fromTaskA, fromOtherUser] = [
      newActivation(),
      newActivation(),
      newActivation(),
      newActivation(),
      newActivation(),
    ];
    const role = 'AROAEXAMPLEROLEID0001';
    const records = [
      busEvent('shop.orders', { idempotencyKey: key, input: { activationId: fromShop } }),
      busEvent('crm.tickets', { idempotencyKey: key, input: { activationId: fromCrm } }),
      message({ idempotencyKey: key, input: { activationId: fromDeveloper } }),
      message({ idempotencyKey: key, input: { activationId: fromTaskA } }, `${role}:ecs-task-a`),
      message({ idempotencyKey: key, input: { activationId: fromOtherUser } }, 'AIDAOTHERUSER00000001'),
    ];
    // One key, five scopes: each runs once, none is "key reused".
    expect((await consume(records)).batchItemFailures).toEqual([]);
    expect(localDeadLetters).toEqual([]);
    for (const id of [fromShop, fromCrm, fromDeveloper, fromTaskA, fromOtherUser]) expect(effects(id)).toBe(1);
    const callerOf = (id: string) => outcomeFor(id)[0]?.detail.caller;
    expect([fromShop, fromCrm, fromDeveloper, fromTaskA, fromOtherUser].map(callerOf)).toEqual([
      'events:000000000000:shop.orders',
      'events:000000000000:crm.tickets',
      `sqs:${LOCAL_DEVELOPER_SENDER_ID}`,
      `sqs:${role}`,
      'sqs:AIDAOTHERUSER00000001',
    ]);
    expect(outcomeFor(fromDeveloper)[0]?.detail.source).toBe('sqs');

    // Another session of the same role retrying the key gets the saved answer; with another input, key reused.
    const retry = message({ idempotencyKey: key, input: { activationId: fromTaskA } }, `${role}:ecs-task-b`);
    expect((await consume([retry])).batchItemFailures).toEqual([]);
    expect(effects(fromTaskA)).toBe(1);
    const reused = message({ idempotencyKey: key, input: { activationId: newActivation() } }, `${role}:ecs-task-b`);
    await consume([reused]);
    expect(localDeadLetters.find((letter) => letter.messageId === reused.messageId)?.problem.type).toMatch(
      /idempotency-key-reused$/,
    );
  });

  it('dead-letters a record of the events queue that is not an EventBridge event', async () => {
    const id = newActivation();
    const record = toSqsRecord(
      JSON.stringify({ idempotencyKey: `plain-${id}`, input: { activationId: id } }),
      'cancel-activation',
      { via: 'bus' },
    );
    expect((await consume([record])).batchItemFailures).toEqual([]);
    expect(effects(id)).toBe(0);
    const errors = localDeadLetters.find((letter) => letter.messageId === record.messageId)?.problem.errors as Array<{
      path: string;
    }>;
    expect(errors.map((error) => error.path)).toEqual(
      expect.arrayContaining(['detail-type', 'source', 'account', 'id']),
    );
  });

  it('processes the records of a batch concurrently', async () => {
    const ids = Array.from({ length: 10 }, () => newActivation());
    stn.server.latencyMs = 100;
    stn.server.maxInFlight = 0;
    const response = await consume(
      ids.map((id) => message({ idempotencyKey: `par-${id}`, input: { activationId: id } })),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(stn.server.maxInFlight).toBe(5);
  });
});

describe('outcome events and the audit trail', () => {
  it('publishes a stable event id per operation and status, and records every attempt', async () => {
    const id = newActivation();
    const headers = { 'Idempotency-Key': `audit-${id}` };
    stn.server.injectFault({ kind: 'status', status: 500, matching: id, path: '/api/CancelNewSubscription', times: 2 });
    const call = () =>
      invoke(handler, definition, { method: 'POST', path: `/v1/stn/activations/${id}/cancel`, headers });
    expect((await call()).status).toBe(502);
    expect((await call()).status).toBe(502);
    const done = await call();
    expect(done.status).toBe(200);
    const operationId = String(done.body.operationId);

    const events = localOutcomeEvents.filter((outcome) => outcome.detail.operationId === operationId);
    expect(events.map((outcome) => outcome.detailType)).toEqual([
      'Cancel Activation Unknown',
      'Cancel Activation Unknown',
      'Cancel Activation In Progress',
    ]);
    expect(events[0]?.detail.eventId).toBe(events[1]?.detail.eventId);
    expect(events[2]?.detail.eventId).toBe(stableEventId(operationId, 'in_progress'));
    expect(events[2]?.detail).toMatchObject({
      operation: 'cancel-activation',
      target: `activation:${id}`,
      caller: LOCAL_CALLER_ARN,
      upstream: { status: 200 },
    });

    const record = await readOperation(operationId);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      operationId,
      status: 'in_progress',
      caller: LOCAL_CALLER_ARN,
      source: 'http',
      input: { activationId: id },
    });
    expect((record.body.attempts as Array<{ status: string }>).map((attempt) => attempt.status)).toEqual([
      'unknown',
      'unknown',
      'in_progress',
    ]);
    expect(JSON.stringify(record.body)).not.toContain(`audit-${id}`);
  });

  it('lets only the owner read an operation', async () => {
    const id = newActivation();
    const done = await invoke(handler, definition, {
      method: 'POST',
      path: `/v1/stn/activations/${id}/cancel`,
      headers: { 'Idempotency-Key': `owner-${id}` },
      caller: 'arn:aws:iam::111111111111:user/alice',
    });
    const operationId = String(done.body.operationId);
    expect((await readOperation(operationId, 'arn:aws:iam::111111111111:user/alice')).status).toBe(200);
    const other = await readOperation(operationId, 'arn:aws:iam::222222222222:user/mallory');
    expect(other.status).toBe(404);
    expect(other.headers['content-type']).toBe('application/problem+json');
    expect((await readOperation('op_00000000000000000000000000000000')).status).toBe(404);
    expect((await readOperation('nope')).status).toBe(400);
  });

  it('treats every session of a role as the role: another session retries the key and reads the operation', async () => {
    const taskA = 'arn:aws:sts::111111111111:assumed-role/OrderService/ecs-task-a';
    const taskB = 'arn:aws:sts::111111111111:assumed-role/OrderService/ecs-task-b';
    const id = newActivation();
    const call = (caller: string) =>
      invoke(handler, definition, {
        method: 'POST',
        path: `/v1/stn/activations/${id}/cancel`,
        headers: { 'Idempotency-Key': `role-${id}` },
        caller,
      });
    const first = await call(taskA);
    expect(first.status).toBe(200);
    const operationId = String(first.body.operationId);

    const read = await readOperation(operationId, taskB);
    expect(read.status).toBe(200);
    expect(read.body.caller).toBe('arn:aws:iam::111111111111:role/OrderService');
    const retried = await call(taskB);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body.operationId).toBe(operationId);
    expect(effects(id)).toBe(1);
    // Another role, even in the same account, is someone else.
    expect(
      (await readOperation(operationId, 'arn:aws:sts::111111111111:assumed-role/Reporting/ecs-task-a')).status,
    ).toBe(404);
  });

  it('keeps sessions apart with CALLER_SCOPE=session', async () => {
    const taskA = 'arn:aws:sts::111111111111:assumed-role/OrderService/ecs-task-a';
    const taskB = 'arn:aws:sts::111111111111:assumed-role/OrderService/ecs-task-b';
    process.env.CALLER_SCOPE = 'session';
    resetConfigCache();
    try {
      const id = newActivation();
      const done = await invoke(handler, definition, {
        method: 'POST',
        path: `/v1/stn/activations/${id}/cancel`,
        headers: { 'Idempotency-Key': `session-${id}` },
        caller: taskA,
      });
      const operationId = String(done.body.operationId);
      expect((await readOperation(operationId, taskA)).body.caller).toBe(taskA);
      expect((await readOperation(operationId, taskB)).status).toBe(404);
    } finally {
      delete process.env.CALLER_SCOPE;
      resetConfigCache();
    }
  });
});
