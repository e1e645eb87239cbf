/**
 * Exactly once through lost answers: the provider applied the write, the answer never reached the gateway
 * (timeout, reset, 5xx after applying, the gateway's own DynamoDB write failing, the Lambda abandoned mid-call).
 * The retry with the same key must reconcile with the provider instead of sending again. Ground truth is each
 * simulator's own record of applied effects.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type EsimGoSimulator, assignment } from '../../sandbox/esim-go/simulator.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { clearDynamoDBFaults, failIdempotencyResultWrite } from '../../testkit/dynamodb-faults.js';
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

interface Loaded {
  handler: Handler;
  definition: OperationDefinition;
}
let monogoto: MonogotoSimulator;
let esimGo: EsimGoSimulator;
let stn: StnSimulator;
const ops = {} as Record<'cancelEsim' | 'revokeBundle' | 'cancelActivation', Loaded>;
let serial = 0;

const load = async (name: string, exported: keyof typeof ops) => {
  const { handler } = (await import(`../../functions/${name}/index.ts`)) as { handler: Handler };
  const definition = (
    (await import(`../../shared/operations/${name}/index.ts`)) as Record<string, OperationDefinition>
  )[exported] as OperationDefinition;
  ops[exported] = { handler, definition };
};

beforeAll(async () => {
  [monogoto, esimGo, stn] = await Promise.all([
    startMonogoto({ seed: false }),
    startEsimGo({ seed: false, requestsPerSecond: 1000 }),
    startStn({ seed: false, requestsPerSecond: 1000 }),
  ]);
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: '300',
    RECONCILE_AFTER_MS: '400',
    ESIM_GO_REQUESTS_PER_SECOND: '1000',
  });
  await Promise.all([
    load('cancel-esim', 'cancelEsim'),
    load('revoke-bundle', 'revokeBundle'),
    load('cancel-activation', 'cancelActivation'),
  ]);
});
afterAll(async () => Promise.all([monogoto.server.stop(), esimGo.server.stop(), stn.server.stop()]));
beforeEach(() => {
  for (const simulator of [monogoto, esimGo, stn]) simulator.server.clearFaults();
  clearDynamoDBFaults();
});

const key = () => `key-${Math.random().toString(36).slice(2)}`;
const nextIccid = () =>
  withLuhnCheckDigit(`8944${String(Date.now() % 1e8).padStart(8, '0')}${String((serial += 1)).padStart(6, '0')}`);

const newBundleEsim = () => {
  const iccid = nextIccid();
  esimGo.addEsim({
    iccid,
    profileStatus: 'Installed',
    inAccount: true,
    bundles: [
      {
        name: 'b1',
        description: 'test',
        assignments: [assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)],
      },
    ],
  });
  return iccid;
};
const revoke = (iccid: string, headers: Record<string, string>, timeoutMs?: number): Promise<Answer> =>
  invoke(ops.revokeBundle.handler, ops.revokeBundle.definition, {
    method: 'DELETE',
    path: `/v1/esim-go/esims/${iccid}/bundles/b1`,
    headers,
    timeoutMs,
  });
const revokedIds = (iccid: string) =>
  esimGo
    .revocations()
    .filter((revocation) => revocation.iccid === iccid)
    .map((revocation) => revocation.assignmentId);

const newActivation = (status = 'BUSY') => {
  const id = `act${(serial += 1)}x${Math.random().toString(36).slice(2, 10)}`;
  stn.addActivation(activation(id, status));
  return id;
};
const cancelActivation = (id: string, headers: Record<string, string>) =>
  invoke(ops.cancelActivation.handler, ops.cancelActivation.definition, {
    method: 'POST',
    path: `/v1/stn/activations/${id}/cancel`,
    headers,
  });

const newReleasedEsim = () => {
  const iccid = nextIccid();
  monogoto.addEsim({ iccid, state: 'released', matchingId: `M-${serial}` });
  return { iccid, matchingId: `M-${serial}` };
};
const cancelEsim = (esim: { iccid: string; matchingId: string }, headers: Record<string, string>, timeoutMs?: number) =>
  invoke(ops.cancelEsim.handler, ops.cancelEsim.definition, {
    method: 'POST',
    path: `/v1/monogoto/esims/${esim.iccid}/cancel`,
    headers,
    body: { matchingId: esim.matchingId },
    timeoutMs,
  });

describe('eSIM Go: a lost revoke answer is reconciled, never re-sent', () => {
  it.each([
    ['the answer hangs past the timeout', 'apply-then-hang', 504],
    ['a 500 after applying', 'apply-then-status', 502],
    ['a reset after applying', 'apply-then-reset', 502],
  ] as const)('%s: 5xx now, then the retry answers success with reconciled: true', async (_label, kind, status) => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind, status: 500, matching: iccid, path: `/esims/${iccid}/bundles/b1` });
    const lost = await revoke(iccid, headers);
    expect(lost.status).toBe(status);
    expect(lost.body.detail).toMatch(/Retrying with the same Idempotency-Key is safe/);
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      status: 'succeeded',
      reconciled: true,
      operationId: expect.any(String),
      target: `iccid:${iccid}/bundle:b1`,
    });
    expect(revokedIds(iccid)).toEqual(['1']);
    expect((await revoke(iccid, headers)).headers['idempotent-replayed']).toBe('true');
    expect(revokedIds(iccid)).toEqual(['1']);
  });

  it('re-sends when the provider shows no effect, once the earlier request can no longer be in flight', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'status', status: 500, path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, headers)).status).toBe(502);
    const tooSoon = await revoke(iccid, headers);
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.body.detail).toMatch(/may still be in flight/);
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThan(0);
    expect(revokedIds(iccid)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(retried.body.reconciled).toBeUndefined();
    expect(revokedIds(iccid)).toEqual(['1']);
  });

  it('keeps the operation id of the first attempt', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', path: `/esims/${iccid}/bundles/b1` });
    const lost = await revoke(iccid, headers);
    const retried = await revoke(iccid, headers);
    expect(lost.body.operationId).toBe(retried.body.operationId);
  });

  it('answers 409 reconciliation-needed and sends nothing when something else changed meanwhile', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'status', status: 500, path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, headers)).status).toBe(502);
    const other = esimGo.esim(iccid)?.bundles[0]?.assignments[1];
    if (other !== undefined) other.bundleState = 'active';
    const answer = await revoke(iccid, headers);
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({
      type: expect.stringMatching(/reconciliation-needed$/),
      observed: { expectedRevoked: '1' },
    });
    expect(revokedIds(iccid)).toEqual([]);
  });

  it('refuses the same key with another payload even after a lost attempt', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    esimGo.server.injectFault({ kind: 'apply-then-hang', path: `/esims/${iccid}/bundles/b1` });
    expect((await revoke(iccid, headers)).status).toBe(504);
    const other = await invoke(ops.revokeBundle.handler, ops.revokeBundle.definition, {
      method: 'DELETE',
      path: `/v1/esim-go/esims/${iccid}/bundles/b1?refundToBalance=true&offerId=2`,
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/idempotency-key-reused$/);
    expect(revokedIds(iccid)).toEqual(['1']);
  });

  it('reconciles after the gateway saving the result to DynamoDB failed', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    failIdempotencyResultWrite(iccid);
    const failed = await revoke(iccid, headers, 1500);
    expect(failed.status).toBe(503);
    expect(failed.body.type).toMatch(/outcome-pending$/);
    expect(failed.body.detail).toMatch(/may have been applied/);
    expect(Number(failed.headers['retry-after'])).toBeGreaterThan(0);
    expect(revokedIds(iccid)).toEqual(['1']);
    // Powertools keeps the key in progress until the invocation's time budget ends: 409 meanwhile.
    expect((await revoke(iccid, headers)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(retried.body.reconciled).toBe(true);
    expect(revokedIds(iccid)).toEqual(['1']);
  });

  it('an execution abandoned at its deadline aborts its call, and the retry reconciles it: one revoke', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    // Applied at once, answered never. The invocation has just enough time to send (UPSTREAM_TIMEOUT_MS=300) and
    // middy ends it at its deadline, as Lambda would; the call is aborted at the deadline, never left running.
    esimGo.server.injectFault({ kind: 'apply-then-hang', path: `/esims/${iccid}/bundles/b1`, latencyMs: 0 });
    const abandoned = revoke(iccid, headers, 700).then(
      (answer) => answer.status,
      (error: Error) => error.name,
    );
    await new Promise((resolve) => setTimeout(resolve, 750));
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(retried.body.reconciled).toBe(true);
    expect(revokedIds(iccid)).toEqual(['1']);
    expect([504, 'TimeoutError']).toContain(await abandoned);
    expect(revokedIds(iccid)).toEqual(['1']);
  });

  it('refuses to claim or send when the invocation cannot cover the provider call (nothing sent, nothing claimed)', async () => {
    const iccid = newBundleEsim();
    const headers = { 'Idempotency-Key': key() };
    const short = await revoke(iccid, headers, 400);
    expect(short.status).toBe(503);
    expect(short.body.type).toMatch(/time-budget-exhausted$/);
    expect(esimGo.server.calls.filter((call) => call.path.includes(iccid))).toHaveLength(0);
    const retried = await revoke(iccid, headers);
    expect(retried.status).toBe(200);
    expect(revokedIds(iccid)).toEqual(['1']);
  });
});

describe('sTN: a lost cancel answer is reconciled with QueryActivation', () => {
  it('CANCELLING after a lost answer: the retry answers in_progress, reconciled, with one cancel at sTN', async () => {
    const id = newActivation();
    const headers = { 'Idempotency-Key': key() };
    stn.server.injectFault({ kind: 'apply-then-reset', matching: id, path: '/api/CancelNewSubscription' });
    expect((await cancelActivation(id, headers)).status).toBe(502);
    const retried = await cancelActivation(id, headers);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'in_progress', reconciled: true, activationStatus: 'CANCELLING' });
    expect(stn.cancellations().filter((cancellation) => cancellation.activationId === id)).toHaveLength(1);
  });

  it('still pending after a failure that did not apply: the retry re-sends once', async () => {
    const id = newActivation();
    const headers = { 'Idempotency-Key': key() };
    stn.server.injectFault({ kind: 'status', status: 503, matching: id, path: '/api/CancelNewSubscription' });
    expect((await cancelActivation(id, headers)).status).toBe(502);
    expect((await cancelActivation(id, headers)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const retried = await cancelActivation(id, headers);
    expect(retried.body).toMatchObject({ status: 'in_progress' });
    expect(retried.body.reconciled).toBeUndefined();
    expect(stn.cancellations().filter((cancellation) => cancellation.activationId === id)).toHaveLength(1);
  });

  it('DONE meanwhile: the retry answers a definitive rejection with the observed status', async () => {
    const id = newActivation();
    const headers = { 'Idempotency-Key': key() };
    stn.server.injectFault({ kind: 'hang', matching: id, path: '/api/CancelNewSubscription' });
    expect((await cancelActivation(id, headers)).status).toBe(504);
    await new Promise((resolve) => setTimeout(resolve, 450));
    const record = stn.activation(id);
    if (record !== undefined) record.status = 'DONE';
    const retried = await cancelActivation(id, headers);
    expect(retried.status).toBe(422);
    expect(retried.body).toMatchObject({
      detail: 'The activation is DONE; it can no longer be cancelled',
      reconciled: true,
    });
    expect(stn.cancellations().filter((cancellation) => cancellation.activationId === id)).toHaveLength(0);
  });
});

describe('Monogoto: no read API, so the re-send is the check', () => {
  it('a lost but applied cancel: the re-send is refused as not released, answered as succeeded but unverified', async () => {
    const esim = newReleasedEsim();
    const headers = { 'Idempotency-Key': key() };
    monogoto.server.injectFault({ kind: 'apply-then-hang', matching: esim.iccid, path: '/api/v1/eSIM/cancel' });
    expect((await cancelEsim(esim, headers)).status).toBe(504);
    const retried = await cancelEsim(esim, headers);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({
      status: 'succeeded',
      reconciled: true,
      verified: false,
      explanation: expect.stringContaining('no read API'),
    });
    expect(monogoto.cancellations().filter((cancellation) => cancellation.iccid === esim.iccid)).toHaveLength(1);
  });

  it('a failure that did not apply: the re-send cancels, a plain success', async () => {
    const esim = newReleasedEsim();
    const headers = { 'Idempotency-Key': key() };
    monogoto.server.injectFault({ kind: 'status', status: 500, matching: esim.iccid, path: '/api/v1/eSIM/cancel' });
    expect((await cancelEsim(esim, headers)).status).toBe(502);
    const retried = await cancelEsim(esim, headers);
    expect(retried.body).toMatchObject({ status: 'succeeded' });
    expect(retried.body.verified).toBeUndefined();
    expect(monogoto.cancellations().filter((cancellation) => cancellation.iccid === esim.iccid)).toHaveLength(1);
  });
});
