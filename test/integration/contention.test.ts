/**
 * Issue 14's defects, one focused test each, where the product breaks: several keys on one target at once, a
 * provider that applies a write and loses the answer (or applies it late), a read that is slow and stale, an
 * invocation that hits its deadline while its execution goes on, a save that fails after the provider applied the
 * write, an expired key. The judge is each simulator's own record of what it applied.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { LOCAL_CALLER_ARN, lambdaContext } from '../../infra/local/apigw-event.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { createOperationHandler } from '../../shared/handler.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type EsimGoSimulator, type SimBundle, assignment } from '../../sandbox/esim-go/simulator.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { clearDynamoDBFaults, delayDynamoDB, failDynamoDB } from '../../testkit/dynamodb-faults.js';
import {
  type Answer,
  type Handler,
  configureEnvironment,
  invoke,
  newTable,
  startEsimGo,
  startMonogoto,
  startStn,
} from '../../testkit/harness.js';

const RECONCILE_AFTER_MS = 800;
let esimGo: EsimGoSimulator;
let monogoto: MonogotoSimulator;
let revokeHandler: Handler;
let revokeDefinition: OperationDefinition;
let cancelHandler: Handler;
let cancelDefinition: OperationDefinition;
let stn: StnSimulator;
let activationHandler: Handler;
let activationDefinition: OperationDefinition;
let serial = 0;

beforeAll(async () => {
  [esimGo, monogoto, stn] = await Promise.all([
    startEsimGo({ seed: false, requestsPerSecond: 10_000 }),
    startMonogoto({ seed: false }),
    startStn({ seed: false, requestsPerSecond: 10_000 }),
  ]);
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: '1000',
    RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
    ESIM_GO_REQUESTS_PER_SECOND: '1000',
  });
  ({ handler: revokeHandler } = (await import('../../functions/revoke-bundle/index.js')) as unknown as {
    handler: Handler;
  });
  ({ revokeBundle: revokeDefinition } = (await import('../../shared/operations/revoke-bundle/index.js')) as unknown as {
    revokeBundle: OperationDefinition;
  });
  ({ handler: cancelHandler } = (await import('../../functions/cancel-esim/index.js')) as unknown as {
    handler: Handler;
  });
  ({ cancelEsim: cancelDefinition } = (await import('../../shared/operations/cancel-esim/index.js')) as unknown as {
    cancelEsim: OperationDefinition;
  });
  ({ handler: activationHandler } = (await import('../../functions/cancel-activation/index.js')) as unknown as {
    handler: Handler;
  });
  ({ cancelActivation: activationDefinition } =
    (await import('../../shared/operations/cancel-activation/index.js')) as unknown as {
      cancelActivation: OperationDefinition;
    });
});
afterAll(async () => Promise.all([esimGo.server.stop(), monogoto.server.stop(), stn.server.stop()]));
beforeEach(() => {
  esimGo.server.clearFaults();
  esimGo.server.latencyMs = 0;
  monogoto.server.clearFaults();
  stn.server.clearFaults();
  clearDynamoDBFaults();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = () => `key-${randomUUID()}`;
const nextIccid = () =>
  withLuhnCheckDigit(`8944${String(Date.now() % 1e8).padStart(8, '0')}${String((serial += 1)).padStart(6, '0')}`);
const newEsim = (profileStatus: string, bundles: SimBundle[]) => {
  const iccid = nextIccid();
  esimGo.addEsim({ iccid, profileStatus, inAccount: true, bundles });
  return iccid;
};
const bundle = (name: string, ...assignments: ReturnType<typeof assignment>[]): SimBundle => ({
  name,
  description: name,
  assignments,
});
const revoke = (
  iccid: string,
  headers: Record<string, string>,
  options: { bundle?: string; query?: string; budgetMs?: number } = {},
): Promise<Answer> =>
  invoke(revokeHandler, revokeDefinition, {
    method: 'DELETE',
    path: `/v1/esim-go/esims/${iccid}/bundles/${options.bundle ?? 'b1'}${options.query ?? ''}`,
    headers,
    timeoutMs: options.budgetMs,
  });
const revoked = (iccid: string) =>
  esimGo
    .revocations()
    .filter((revocation) => revocation.iccid === iccid)
    .map((revocation) => revocation.assignmentId);
const inAccount = (iccid: string) => esimGo.esim(iccid)?.inAccount;

const documentClient = async () => (await import('../../shared/dynamodb.js')).documentClient;
const readItem = async (id: string) =>
  (
    await (
      await documentClient()
    ).send(new GetCommand({ TableName: process.env.IDEMPOTENCY_TABLE_NAME, Key: { id }, ConsistentRead: true }))
  ).Item;
const targetItem = (iccid: string) => readItem(`target#esim-go#iccid:${iccid}`);

describe('1. work on one eSIM is serialized across keys', () => {
  it('two revokes of one bundle at once, on an uninstalled eSIM with two unused assignments: one revokes, the eSIM stays', async () => {
    const iccid = newEsim('Released', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    esimGo.server.latencyMs = 60; // both plans are read while neither has revoked
    const answers = await Promise.all([
      revoke(iccid, { 'Idempotency-Key': key() }),
      revoke(iccid, { 'Idempotency-Key': key() }),
    ]);
    expect(revoked(iccid)).toEqual(['1']);
    expect(inAccount(iccid)).toBe(true);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 409]);
    const busy = answers.find((answer) => answer.status === 409);
    expect(busy?.body.type).toMatch(/target-busy$/);
    expect(Number(busy?.headers['retry-after'])).toBeGreaterThan(0);
    // Once the first is done, the second key's turn comes: the guard now sees the last bundle and refuses.
    const later = await revoke(iccid, { 'Idempotency-Key': key() });
    expect(later.body.type).toMatch(/esim-return-risk$/);
    expect(inAccount(iccid)).toBe(true);
  });

  it('two revokes of two different bundles of one eSIM at once: one revokes, the eSIM stays', async () => {
    const iccid = newEsim('Released', [
      bundle('b1', assignment('1', 'queued', 3)),
      bundle('b2', assignment('2', 'queued', 2)),
    ]);
    esimGo.server.latencyMs = 60;
    const answers = await Promise.all([
      revoke(iccid, { 'Idempotency-Key': key() }, { bundle: 'b1' }),
      revoke(iccid, { 'Idempotency-Key': key() }, { bundle: 'b2' }),
    ]);
    expect(revoked(iccid)).toHaveLength(1);
    expect(inAccount(iccid)).toBe(true);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
  });

  it('the same two revokes with the lease switched off both pass the guard and hand the eSIM back (what the lease prevents)', async () => {
    const iccid = newEsim('Released', [
      bundle('b1', assignment('1', 'queued', 3)),
      bundle('b2', assignment('2', 'queued', 2)),
    ]);
    const unleased = createOperationHandler({
      ...revokeDefinition,
      lease: () => randomUUID(),
    } as OperationDefinition) as unknown as Handler;
    // Both plans are read before either revokes, however loaded the machine: each read is evaluated on arrival and
    // answered 600 ms later, so the second read comes in while the first key still waits for its answer.
    esimGo.server.injectFault({
      kind: 'stale-answer',
      method: 'GET',
      path: `/esims/${iccid}/bundles`,
      latencyMs: 600,
      times: 2,
    });
    const send = (name: string) =>
      invoke(unleased, revokeDefinition, {
        method: 'DELETE',
        path: `/v1/esim-go/esims/${iccid}/bundles/${name}`,
        headers: { 'Idempotency-Key': key() },
      });
    const answers = await Promise.all([send('b1'), send('b2')]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(revoked(iccid).sort()).toEqual(['1', '2']);
    expect(inAccount(iccid)).toBe(false);
  });

  it('two queue records of one batch for one eSIM never run at once: one revokes, the other is retried later', async () => {
    const iccid = newEsim('Released', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    esimGo.server.latencyMs = 60;
    const record = (idempotencyKey: string) => ({
      messageId: randomUUID(),
      receiptHandle: 'AQEB',
      body: JSON.stringify({ idempotencyKey, input: { iccid, name: 'b1' } }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sim-cancel-gateway-revoke-bundle',
      awsRegion: 'us-east-1',
    });
    const batch = { Records: [record(key()), record(key())] } as SQSEvent;
    const queueHandler = revokeHandler as unknown as (
      event: SQSEvent,
      context: ReturnType<typeof lambdaContext>,
    ) => Promise<SQSBatchResponse>;
    const response = await queueHandler(batch, lambdaContext('revoke-bundle', 28_000));
    expect(revoked(iccid)).toEqual(['1']);
    expect(inAccount(iccid)).toBe(true);
    expect(response.batchItemFailures).toHaveLength(1);
  });
});

describe('2. a success is never borrowed from another key', () => {
  it('after key 1 failed with a 5xx before eSIM Go applied it, key 2 waits; then each key gets its own revoke', async () => {
    const iccid = newEsim('Installed', [
      bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)),
    ]);
    const first = { 'Idempotency-Key': key() };
    const second = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'status', status: 500, method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, first)).status).toBe(502);
    const busy = await revoke(iccid, second);
    expect(busy.status).toBe(409);
    expect(busy.body.type).toMatch(/target-busy$/);
    expect(revoked(iccid)).toEqual([]);
    await sleep(RECONCILE_AFTER_MS + 50);
    // Key 2 reconciles key 1's attempt first (no effect), records that for key 1, and revokes.
    const secondDone = await revoke(iccid, second);
    expect(secondDone.status).toBe(200);
    const firstDone = await revoke(iccid, first);
    expect(firstDone.status).toBe(200);
    expect(firstDone.body.reconciled).toBeUndefined();
    const claimed = [firstDone, secondDone].map((answer) => (answer.body.plan as { target: { id: string } }).target.id);
    expect(new Set(claimed).size).toBe(2);
    expect(revoked(iccid).sort()).toEqual([...claimed].sort());
  });
});

describe('an abandoned key does not block its eSIM for long', () => {
  it("after the window, the next key reconciles the lost attempt first and records the verdict, so the old key's retry answers truthfully", async () => {
    const iccid = newEsim('Installed', [
      bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)),
    ]);
    const abandonedKey = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, abandonedKey)).status).toBe(504);
    await sleep(RECONCILE_AFTER_MS + 50);
    const next = await revoke(iccid, { 'Idempotency-Key': key() });
    expect(next.status).toBe(200);
    expect((next.body.plan as { target: { id: string } }).target.id).toBe('2');
    const late = await revoke(iccid, abandonedKey);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ reconciled: true, plan: { target: { id: '1' } } });
    expect(revoked(iccid)).toEqual(['1', '2']);
  });

  it("the old key's recorded verdict holds even when a third key has since left an unresolved attempt there", async () => {
    const iccid = newEsim('Installed', [
      bundle('b1', assignment('1', 'queued', 4), assignment('2', 'queued', 3), assignment('3', 'queued', 2)),
    ]);
    const abandonedKey = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, abandonedKey)).status).toBe(504);
    await sleep(RECONCILE_AFTER_MS + 50);
    // The next key settles the abandoned attempt (applied), then loses its own answer: its attempt is now unresolved.
    esimGo.server.injectFault({ kind: 'status', status: 500, method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, { 'Idempotency-Key': key() })).status).toBe(502);
    const late = await revoke(iccid, abandonedKey);
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ reconciled: true, plan: { target: { id: '1' } } });
    expect(revoked(iccid)).toEqual(['1']);
  });
});

describe('a container that dies holding a lease', () => {
  it('blocks its eSIM only until its invocation would have ended; then the next key proceeds', async () => {
    const iccid = newEsim('Installed', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    const { acquireLease, newLease, targetId } = await import('../../shared/target-lease.js');
    // A lease taken by an execution whose container then vanished: never released, it expires with its invocation.
    const dead = await acquireLease(
      newLease(targetId('esim-go', `iccid:${iccid}`), 'attempt#revoke-bundle#dead-container', Date.now() + 600),
    );
    expect(dead.busy).toBe(false);
    const blocked = await revoke(iccid, { 'Idempotency-Key': key() });
    expect(blocked.status).toBe(409);
    expect(blocked.body).toMatchObject({ reason: 'leased' });
    await sleep(650);
    const next = await revoke(iccid, { 'Idempotency-Key': key() });
    expect(next.status).toBe(200);
    expect(revoked(iccid)).toEqual(['1']);
  });
});

describe("a final state another key caused is not taken for this key's effect", () => {
  it('sTN: a lost cancel sent after another key had cancelled is a rejection, not "in progress, reconciled"', async () => {
    const id = `act${(serial += 1)}x${randomUUID().slice(0, 8)}`;
    stn.addActivation(activation(id, 'BUSY'));
    const cancel = (headers: Record<string, string>) =>
      invoke(activationHandler, activationDefinition, {
        method: 'POST',
        path: `/v1/stn/activations/${id}/cancel`,
        headers,
      });
    expect((await cancel({ 'Idempotency-Key': key() })).body.status).toBe('in_progress');
    const late = { 'Idempotency-Key': key() };
    stn.server.injectFault({ kind: 'hang', path: '/api/CancelNewSubscription', matching: id });
    expect((await cancel(late)).status).toBe(504);
    await sleep(RECONCILE_AFTER_MS + 50);
    const retried = await cancel(late);
    expect(retried.status).toBe(422);
    expect(retried.body).toMatchObject({
      reconciled: true,
      detail: expect.stringMatching(/already CANCELLING before this request was sent/),
    });
    expect(stn.cancellations().filter((cancellation) => cancellation.activationId === id)).toHaveLength(1);
  });

  it('Monogoto: a lost cancel sent after another key had cancelled is a rejection, not "succeeded, unverified"', async () => {
    const iccid = nextIccid();
    monogoto.addEsim({ iccid, state: 'released', matchingId: 'TWICE' });
    const cancel = (headers: Record<string, string>) =>
      invoke(cancelHandler, cancelDefinition, {
        method: 'POST',
        path: `/v1/monogoto/esims/${iccid}/cancel`,
        headers,
        body: { matchingId: 'TWICE' },
      });
    expect((await cancel({ 'Idempotency-Key': key() })).status).toBe(200);
    const late = { 'Idempotency-Key': key() };
    monogoto.server.injectFault({ kind: 'hang', path: '/api/v1/eSIM/cancel', matching: iccid });
    expect((await cancel(late)).status).toBe(504);
    const retried = await cancel(late);
    expect(retried.status).toBe(422);
    expect(retried.body.verified).toBeUndefined();
    expect(monogoto.cancellations().filter((cancellation) => cancellation.iccid === iccid)).toHaveLength(1);
  });
});

describe('3. reconciliation never trusts a read that started too early', () => {
  it('a lost revoke applied late is not sent again on the strength of a slow, stale read', async () => {
    const iccid = newEsim('Installed', [
      bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)),
    ]);
    const headers = { 'Idempotency-Key': key() };
    // eSIM Go answers 500 at once and applies the revoke 600 ms later (inside RECONCILE_AFTER_MS).
    esimGo.server.injectFault({
      kind: 'status-then-apply-late',
      status: 500,
      applyAfterMs: 600,
      method: 'DELETE',
      path: `/esims/${iccid}/bundles/b1`,
    });
    expect((await revoke(iccid, headers)).status).toBe(502);
    // The retry's bundle read captures the state now (nothing revoked yet) and answers after the window has passed.
    esimGo.server.injectFault({
      kind: 'stale-answer',
      latencyMs: RECONCILE_AFTER_MS + 50,
      method: 'GET',
      path: `/esims/${iccid}/bundles`,
    });
    const early = await revoke(iccid, headers);
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/idempotency-key-in-flight$/);
    expect(revoked(iccid)).toEqual(['1']);
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(retried.body.reconciled).toBe(true);
    expect(revoked(iccid)).toEqual(['1']);
  });

  it('stamps sentAt right before the request goes out: after a slow login', async () => {
    const iccid = nextIccid();
    monogoto.addEsim({ iccid, state: 'released', matchingId: 'SENT-AT' });
    monogoto.server.injectFault({ kind: 'delay', latencyMs: 400, path: '/v1/auth/token' });
    monogoto.server.injectFault({
      kind: 'apply-then-status',
      status: 500,
      path: '/api/v1/eSIM/cancel',
      matching: iccid,
    });
    const answer = await invoke(cancelHandler, cancelDefinition, {
      method: 'POST',
      path: `/v1/monogoto/esims/${iccid}/cancel`,
      headers: { 'Idempotency-Key': key() },
      body: { matchingId: 'SENT-AT' },
    });
    expect(answer.status).toBe(502);
    const received =
      monogoto.server.callsTo('/api/v1/eSIM/cancel').find((call) => JSON.stringify(call.body).includes(iccid))?.at ?? 0;
    const pending = (await readItem(`target#monogoto#iccid:${iccid}`))?.pending as { sentAtMs: number } | undefined;
    expect(pending).toBeDefined();
    expect(pending?.sentAtMs).toBeLessThanOrEqual(received);
    expect(received - (pending?.sentAtMs ?? 0)).toBeLessThan(200);
  });
});

describe('4. no execution outlives its invocation', () => {
  it('an execution that outlives its invocation never sends after a retry took over: one revoke, one saved answer', async () => {
    const iccid = newEsim('Installed', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    const headers = { 'Idempotency-Key': key() };
    // Slow reads leave the first execution too little of its invocation for the revoke; middy answers the invocation
    // at its deadline while the execution goes on, and a retry takes over.
    esimGo.server.injectFault({ kind: 'delay', latencyMs: 700, method: 'GET', path: `/esims/${iccid}/bundles` });
    esimGo.server.injectFault({ kind: 'delay', latencyMs: 900, method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    const abandoned = revoke(iccid, headers, { budgetMs: 1400 }).then(
      (answer) => answer.status,
      (error: Error) => error.name,
    );
    await sleep(1450);
    let retried = await revoke(iccid, headers);
    for (let attempt = 0; attempt < 10 && retried.status === 409; attempt += 1) {
      await sleep(200);
      retried = await revoke(iccid, headers);
    }
    expect(retried.status).toBe(200);
    await abandoned;
    await sleep(1200);
    expect(revoked(iccid)).toEqual(['1']);
    const replay = await revoke(iccid, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(retried.body);
  });

  it('a late release of the key, after the retry saved its answer, cannot delete that answer', async () => {
    const iccid = newEsim('Installed', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    // The first execution's final write (Powertools releasing the key after the lost answer) reaches DynamoDB late.
    delayDynamoDB('TransactWriteItemsCommand', { matching: '"Delete"', ms: 1200 });
    const abandoned = revoke(iccid, headers, { budgetMs: 1400 }).then(
      (answer) => answer.status,
      (error: Error) => error.name,
    );
    await sleep(1450);
    const retried = await revoke(iccid, headers);
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body.reconciled).toBe(true);
    await abandoned;
    await sleep(1000);
    const replay = await revoke(iccid, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(retried.body);
    expect(revoked(iccid)).toEqual(['1']);
  });
});

describe('4b. a save that lands after the deadline', () => {
  it('is read by the retry that took the key over, which answers it instead of revoking again', async () => {
    const iccid = newEsim('Installed', [
      bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)),
    ]);
    const headers = { 'Idempotency-Key': key() };
    // The first execution's revoke succeeds, but its save reaches DynamoDB only after its invocation ended...
    delayDynamoDB('TransactWriteItemsCommand', { matching: '"COMPLETED"', ms: 1900 });
    const abandoned = revoke(iccid, headers, { budgetMs: 1800 }).then(
      (answer) => answer.status,
      (error: Error) => error.name,
    );
    await sleep(1830);
    // ...in the middle of the retry taking the target over (its lease write is slow), after the retry read the target.
    delayDynamoDB('UpdateItemCommand', { matching: ':holder', ms: 400 });
    const retried = await revoke(iccid, headers);
    await abandoned;
    expect(retried.status).toBe(200);
    expect(retried.body.reconciled).toBe(true);
    expect(revoked(iccid)).toEqual(['1']);
  });
});

describe('5. every execution of a key checks its marker', () => {
  it('the same key for another eSIM after a lost revoke that handed the eSIM back is refused; the genuine retry keeps its operation id', async () => {
    const iccid = newEsim('Released', [bundle('b1', assignment('1', 'queued', 3))]);
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    const lost = await revoke(iccid, headers, { query: '?allowEsimReturn=true' });
    expect(lost.status).toBe(504);
    expect(inAccount(iccid)).toBe(false);
    const otherEsim = nextIccid(); // unknown to eSIM Go: its reads answer 403, as for a returned eSIM
    const wrong = await revoke(otherEsim, headers, { query: '?allowEsimReturn=true' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.type).toMatch(/idempotency-key-reused$/);
    const genuine = await revoke(iccid, headers, { query: '?allowEsimReturn=true' });
    expect(genuine.status).toBe(200);
    expect(genuine.body).toMatchObject({ reconciled: true, verified: false, operationId: lost.body.operationId });
  });
});

describe('6. never "nothing was sent" when something may have been', () => {
  it("Powertools' release failing after an unknown outcome answers 503 outcome-pending", async () => {
    const iccid = newEsim('Installed', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({
      kind: 'apply-then-status',
      status: 500,
      method: 'DELETE',
      path: `/esims/${iccid}/bundles/b1`,
    });
    failDynamoDB('TransactWriteItemsCommand', { matching: '"Delete"', times: 2 });
    failDynamoDB('DeleteItemCommand', { times: 1 });
    const answer = await revoke(iccid, headers, { budgetMs: 1500 });
    expect(answer.status).toBe(503);
    expect(answer.body.type).toMatch(/outcome-pending$/);
    expect(answer.body.title).not.toMatch(/nothing was sent/i);
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    await sleep(1600);
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(revoked(iccid)).toEqual(['1']);
  });
});

describe('9. an expired key is a new key, whether or not the TTL sweeper has run', () => {
  const expire = async (ids: string[]) => {
    const client = await documentClient();
    for (const id of ids) {
      await client.send(
        new UpdateCommand({
          TableName: process.env.IDEMPOTENCY_TABLE_NAME,
          Key: { id },
          UpdateExpression: 'SET expiration = :past',
          ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
        }),
      );
    }
  };
  const remove = async (ids: string[]) => {
    const client = await documentClient();
    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    for (const id of ids)
      await client.send(new DeleteCommand({ TableName: process.env.IDEMPOTENCY_TABLE_NAME, Key: { id } }));
  };
  const itemsOf = async (iccid: string, headers: { 'Idempotency-Key': string }) => {
    const { markerId } = await import('../../shared/key-markers.js');
    const { Items = [] } = await (
      await documentClient()
    ).send(new ScanCommand({ TableName: process.env.IDEMPOTENCY_TABLE_NAME }));
    const ids = Items.map((item) => String(item.id));
    return [
      markerId('revoke-bundle', { caller: LOCAL_CALLER_ARN, key: headers['Idempotency-Key'] }),
      `target#esim-go#iccid:${iccid}`,
    ].filter((id) => ids.includes(id));
  };
  const afterLifetime = async (sweep: (ids: string[]) => Promise<void>) => {
    const iccid = newEsim('Installed', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
    const first = await revoke(iccid, headers);
    expect(first.status).toBe(504);
    const ids = await itemsOf(iccid, headers);
    expect(ids).toHaveLength(2);
    await sweep(ids);
    await sleep(RECONCILE_AFTER_MS + 50);
    const again = await revoke(iccid, headers);
    return { iccid, first, again };
  };

  it("another key's attempt left after its key's marker was swept does not block the eSIM (Monogoto, no read API)", async () => {
    const iccid = nextIccid();
    monogoto.addEsim({ iccid, state: 'released', matchingId: 'SWEPT' });
    const cancel = (headers: Record<string, string>) =>
      invoke(cancelHandler, cancelDefinition, {
        method: 'POST',
        path: `/v1/monogoto/esims/${iccid}/cancel`,
        headers,
        body: { matchingId: 'SWEPT' },
      });
    const gone = { 'Idempotency-Key': key() };
    monogoto.server.injectFault({ kind: 'hang', path: '/api/v1/eSIM/cancel', matching: iccid });
    expect((await cancel(gone)).status).toBe(504);
    const { markerId } = await import('../../shared/key-markers.js');
    await remove([markerId('cancel-esim', { caller: LOCAL_CALLER_ARN, key: gone['Idempotency-Key'] })]);
    await sleep(RECONCILE_AFTER_MS + 50);
    const next = await cancel({ 'Idempotency-Key': key() });
    expect(next.status).toBe(200);
    expect(monogoto.cancellations().filter((cancellation) => cancellation.iccid === iccid)).toHaveLength(1);
  });

  it('expired but not yet swept behaves exactly as swept: a new operation, no reconciliation with the old attempt', async () => {
    const notSwept = await afterLifetime(expire);
    const swept = await afterLifetime(remove);
    for (const run of [notSwept, swept]) {
      expect(run.again.status).toBe(200);
      expect(run.again.body.reconciled).toBeUndefined();
      expect(run.again.body.operationId).not.toBe(run.first.body.operationId);
      expect(revoked(run.iccid)).toEqual(['1', '2']);
    }
  });
});

describe('10. a wrong eSIM Go API key is not saved as a refusal', () => {
  it('answers 502 upstream-auth-failed, saves nothing, and the same key succeeds once the key is fixed', async () => {
    const iccid = newEsim('Installed', [bundle('b1', assignment('1', 'queued', 3), assignment('2', 'queued', 2))]);
    const headers = { 'Idempotency-Key': key() };
    esimGo.setApiKey('the-real-key-not-yet-in-the-secret');
    try {
      const refused = await revoke(iccid, headers);
      expect(refused.status).toBe(502);
      expect(refused.body.type).toMatch(/upstream-auth-failed$/);
    } finally {
      esimGo.setApiKey((await import('../../sandbox/esim-go/simulator.js')).ESIM_GO_SANDBOX_API_KEY);
    }
    const fixed = await revoke(iccid, headers);
    expect(fixed.status).toBe(200);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    expect(revoked(iccid)).toEqual(['1']);
    expect(await targetItem(iccid)).not.toHaveProperty('pending');
  });
});
