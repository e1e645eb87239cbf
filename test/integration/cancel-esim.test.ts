/**
 * The cancel-eSIM handler in-process, against DynamoDB Local and the Monogoto simulator over HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import {
  type Answer,
  type Handler,
  configureEnvironment,
  invoke,
  newTable,
  startMonogoto,
} from '../../testkit/harness.js';

let simulator: MonogotoSimulator;
let handler: Handler;
let definition: OperationDefinition;
let serial = 0;

const CANCEL = '/api/v1/eSIM/cancel';

/** A fresh released eSIM per test, so tests never depend on each other's state. */
const releasedEsim = () => {
  serial += 1;
  const iccid = withLuhnCheckDigit(
    `8931${String(Date.now() % 1e9).padStart(9, '0')}${String(serial).padStart(5, '0')}`,
  );
  const matchingId = `MATCH-${serial}-${iccid.slice(-6)}`;
  simulator.addEsim({ iccid, state: 'released', matchingId });
  return { iccid, matchingId };
};

const cancel = (iccid: string, body: unknown, headers: Record<string, string> = {}, caller?: string): Promise<Answer> =>
  invoke(handler, definition, { method: 'POST', path: `/v1/monogoto/esims/${iccid}/cancel`, headers, body, caller });

const key = () => `key-${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  simulator = await startMonogoto({ seed: false });
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: '400',
  });
  ({ handler } = (await import('../../functions/cancel-esim/index.js')) as unknown as { handler: Handler });
  ({ cancelEsim: definition } = (await import('../../shared/operations/cancel-esim/index.js')) as unknown as {
    cancelEsim: OperationDefinition;
  });
});

afterAll(async () => {
  await simulator.server.stop();
});

beforeEach(() => {
  simulator.server.calls.length = 0;
  simulator.server.clearFaults();
});

describe('cancel-esim through the handler', () => {
  it('cancels a released eSIM and answers the contract body', async () => {
    const esim = releasedEsim();
    const answer = await cancel(esim.iccid, { matchingId: esim.matchingId }, { 'Idempotency-Key': key() });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['idempotent-replayed']).toBeUndefined();
    expect(answer.body).toMatchObject({
      operationId: expect.stringMatching(/^op_[0-9a-f]{32}$/),
      operation: 'cancel-esim',
      status: 'succeeded',
      upstream: {
        status: 200,
        body: { data: { header: { functionExecutionStatus: { status: 'Executed-Success' } } } },
      },
    });
    expect(simulator.esim(esim.iccid)?.state).toBe('available');
    expect(simulator.server.callsTo(CANCEL)).toHaveLength(1);
  });

  it('replays the saved answer for the same key and payload without calling Monogoto again', async () => {
    const esim = releasedEsim();
    const headers = { 'Idempotency-Key': key() };
    const first = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    const second = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(simulator.server.callsTo(CANCEL)).toHaveLength(1);
  });

  it('treats the quoted form of a key as the same key', async () => {
    const esim = releasedEsim();
    const plain = key();
    const first = await cancel(esim.iccid, { matchingId: esim.matchingId }, { 'Idempotency-Key': plain });
    const quoted = await cancel(esim.iccid, { matchingId: esim.matchingId }, { 'Idempotency-Key': `"${plain}"` });
    expect(quoted.body).toEqual(first.body);
    expect(quoted.headers['idempotent-replayed']).toBe('true');
  });

  it('answers 409 with Retry-After while the first request with the key is still running', async () => {
    const esim = releasedEsim();
    simulator.server.latencyMs = 250;
    try {
      const headers = { 'Idempotency-Key': key() };
      const first = cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
      expect(second.status).toBe(409);
      expect(second.headers['content-type']).toBe('application/problem+json');
      expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
      expect((await first).status).toBe(200);
    } finally {
      simulator.server.latencyMs = 0;
    }
    expect(simulator.server.callsTo(CANCEL)).toHaveLength(1);
  });

  it('answers 422 when a key is reused with a different payload, and does not call Monogoto', async () => {
    const esim = releasedEsim();
    const other = releasedEsim();
    const headers = { 'Idempotency-Key': key() };
    expect((await cancel(esim.iccid, { matchingId: esim.matchingId }, headers)).status).toBe(200);
    const reused = await cancel(other.iccid, { matchingId: other.matchingId }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.type).toMatch(/idempotency-key-reused$/);
    expect(simulator.esim(other.iccid)?.state).toBe('released');
    expect(simulator.server.callsTo(CANCEL)).toHaveLength(1);
  });

  it('scopes keys by caller: two callers with the same key get independent operations', async () => {
    const first = releasedEsim();
    const second = releasedEsim();
    const shared = key();
    const a = await cancel(
      first.iccid,
      { matchingId: first.matchingId },
      { 'Idempotency-Key': shared },
      'arn:aws:iam::111111111111:user/alice',
    );
    const b = await cancel(
      second.iccid,
      { matchingId: second.matchingId },
      { 'Idempotency-Key': shared },
      'arn:aws:iam::222222222222:user/bob',
    );
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.operationId).not.toEqual(b.body.operationId);
    expect(simulator.server.callsTo(CANCEL)).toHaveLength(2);
  });

  it.each([
    [
      'a wrong ICCID check digit',
      (iccid: string) => `${iccid.slice(0, -1)}${(Number(iccid.slice(-1)) + 1) % 10}`,
      { matchingId: 'ABC' },
      'iccid',
    ],
    ['an ICCID without the 89 prefix', () => '1234567890123456789', { matchingId: 'ABC' }, 'iccid'],
    ['a missing matchingId', (iccid: string) => iccid, {}, 'matchingId'],
    ['a matchingId with forbidden characters', (iccid: string) => iccid, { matchingId: 'a b' }, 'matchingId'],
    ['an unknown body field', (iccid: string) => iccid, { matchingId: 'ABC', force: true }, 'force'],
  ])('refuses %s with 400 naming the field, before any provider call', async (_label, toIccid, body, field) => {
    const esim = releasedEsim();
    const answer = await cancel(toIccid(esim.iccid), body, { 'Idempotency-Key': key() });
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('requires Idempotency-Key (400) and does not call Monogoto', async () => {
    const esim = releasedEsim();
    const answer = await cancel(esim.iccid, { matchingId: esim.matchingId });
    expect(answer.status).toBe(400);
    expect(answer.body.type).toMatch(/idempotency-key-missing$/);
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('answers 415 for a non-JSON body and 413 for a body over 16 KiB', async () => {
    const esim = releasedEsim();
    const text = await cancel(esim.iccid, 'matchingId=x', {
      'Idempotency-Key': key(),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(text.status).toBe(415);
    const huge = await cancel(
      esim.iccid,
      { matchingId: 'A', padding: 'x'.repeat(17 * 1024) },
      { 'Idempotency-Key': key() },
    );
    expect(huge.status).toBe(413);
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('previews with dryRun=true without a key, a provider call or a saved record', async () => {
    const esim = releasedEsim();
    const answer = await invoke(handler, definition, {
      method: 'POST',
      path: `/v1/monogoto/esims/${esim.iccid}/cancel?dryRun=true`,
      body: { matchingId: esim.matchingId },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'validated',
      operation: 'cancel-esim',
      preview: { request: { path: CANCEL } },
    });
    expect(simulator.server.calls).toHaveLength(0);
    expect(simulator.esim(esim.iccid)?.state).toBe('released');
  });

  it('maps Monogoto 400 "not released" to 422 upstream-rejected, saved and replayed', async () => {
    const esim = releasedEsim();
    simulator.addEsim({ iccid: esim.iccid, state: 'available', matchingId: undefined });
    const headers = { 'Idempotency-Key': key() };
    const answer = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      type: expect.stringMatching(/upstream-rejected$/),
      detail: expect.stringContaining('released'),
      upstream: { status: 400 },
    });
    const replay = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    expect(replay.status).toBe(422);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(simulator.server.callsTo(CANCEL)).toHaveLength(1);
  });

  it('maps Monogoto 500 to 502 and lets a retry with the same key go through', async () => {
    const esim = releasedEsim();
    simulator.server.injectFault({ kind: 'status', status: 500, path: CANCEL });
    const headers = { 'Idempotency-Key': key() };
    const failed = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    expect(failed.status).toBe(502);
    expect(failed.body.type).toMatch(/upstream-failed$/);
    const retried = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    expect(retried.status).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('maps Monogoto 429 to 503 with Retry-After and saves nothing', async () => {
    const esim = releasedEsim();
    simulator.server.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 7, path: CANCEL });
    const headers = { 'Idempotency-Key': key() };
    const throttled = await cancel(esim.iccid, { matchingId: esim.matchingId }, headers);
    expect(throttled.status).toBe(503);
    expect(throttled.headers['retry-after']).toBe('7');
    expect((await cancel(esim.iccid, { matchingId: esim.matchingId }, headers)).status).toBe(200);
  });

  it('maps a Monogoto timeout to 504', async () => {
    const esim = releasedEsim();
    simulator.server.injectFault({ kind: 'hang', path: CANCEL });
    const answer = await cancel(esim.iccid, { matchingId: esim.matchingId }, { 'Idempotency-Key': key() });
    expect(answer.status).toBe(504);
    expect(answer.body.type).toMatch(/upstream-timeout$/);
  });

  it('logs in again exactly once when the token has expired', async () => {
    const esim = releasedEsim();
    const warmUp = releasedEsim();
    expect((await cancel(warmUp.iccid, { matchingId: warmUp.matchingId }, { 'Idempotency-Key': key() })).status).toBe(
      200,
    );
    const loginsBefore = simulator.logins;
    simulator.expireTokens();
    simulator.server.calls.length = 0;
    const answer = await cancel(esim.iccid, { matchingId: esim.matchingId }, { 'Idempotency-Key': key() });
    expect(answer.status).toBe(200);
    expect(simulator.logins).toBe(loginsBefore + 1);
    expect(simulator.server.calls.map((call) => call.path)).toEqual([CANCEL, '/v1/auth/token', CANCEL]);
  });
});
