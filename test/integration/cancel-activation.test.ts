/** The cancel-activation handler in-process, against DynamoDB Local and the sTN simulator over HTTP. */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { STN_SANDBOX_API_KEY, type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { type Answer, type Handler, invoke, loadOperation, startStn } from '../../testkit/harness.js';

let simulator: StnSimulator;
let handler: Handler;
let definition: OperationDefinition;

const BUSY = 'q7LmXw2RgxhI5Zvz';
const DONE = 'Dn3KpT8vYc1WsQe4';
const key = () => `key-${Math.random().toString(36).slice(2)}`;
const cancel = (
  id: string,
  body?: unknown,
  headers: Record<string, string> = { 'Idempotency-Key': key() },
  query = '',
): Promise<Answer> =>
  invoke(handler, definition, { method: 'POST', path: `/v1/stn/activations/${id}/cancel${query}`, headers, body });

beforeAll(async () => {
  simulator = await startStn({ requestsPerSecond: 1000 });
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation', {
    UPSTREAM_TIMEOUT_MS: '400',
    RECONCILE_AFTER_MS: '1',
  }));
});
afterAll(async () => simulator.server.stop());
beforeEach(() => simulator.reset());

describe('cancel-activation', () => {
  it('cancels a pending activation once, answers in_progress with the activation, and a replay sends nothing', async () => {
    const headers = { 'Idempotency-Key': key() };
    const first = await cancel(BUSY, { note: 'Customer changed their mind' }, headers);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      operation: 'cancel-activation',
      status: 'in_progress',
      activationStatus: 'CANCELLING',
      providerEnvironment: 'SP16001',
      upstream: { status: 200, body: { id: BUSY, status: 'CANCELLING', providerEnvrionment: 'SP16001' } },
    });
    const replay = await cancel(BUSY, { note: 'Customer changed their mind' }, headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(simulator.cancellations()).toEqual([
      expect.objectContaining({ activationId: BUSY, note: 'Customer changed their mind' }),
    ]);
    expect(simulator.server.callsTo('/api/CancelNewSubscription')).toHaveLength(1);
  });

  it('accepts an empty body (the note is optional) and INIT activations', async () => {
    simulator.addActivation(activation('initOnly000001', 'INIT'));
    const answer = await cancel('initOnly000001');
    expect(answer.status).toBe(200);
    expect(simulator.server.callsTo('/api/CancelNewSubscription')[0]?.body).toEqual({ activationId: 'initOnly000001' });
  });

  it("rejects a DONE activation's cancel with sTN's message in a 422", async () => {
    const answer = await cancel(DONE);
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      type: expect.stringMatching(/upstream-rejected$/),
      detail: expect.stringContaining('has status DONE'),
      upstream: { status: 400, body: { responseStatus: { errorCode: 'InvalidState' } } },
    });
    expect(simulator.activation(DONE)?.status).toBe('DONE');
  });

  it.each([
    ['a 165-character note', { note: 'n'.repeat(165) }, 'note'],
    ['a note of 83 emoji (166 UTF-16 code units, 83 characters)', { note: '😀'.repeat(83) }, 'note'],
    ['a note that is not a string', { note: 42 }, 'note'],
    ['an unknown body field', { reason: 'x' }, 'reason'],
  ])('refuses %s with 400 and no provider call', async (_label, body, field) => {
    const answer = await cancel(BUSY, body);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([expect.objectContaining({ path: field })]);
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('accepts a note of exactly 164 UTF-16 code units', async () => {
    expect((await cancel(BUSY, { note: '😀'.repeat(82) })).status).toBe(200);
  });

  it('refuses an activation id with whitespace or over 64 characters before any call', async () => {
    expect((await cancel('a%20b')).status).toBe(400);
    expect((await cancel('x'.repeat(65))).status).toBe(400);
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('reports the status in a dry run without changing it', async () => {
    const preview = await cancel(BUSY, undefined, {}, '?dryRun=true');
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      status: 'validated',
      preview: { activationId: BUSY, found: true, currentStatus: 'BUSY', cancelWouldBeAccepted: true },
    });
    const done = await cancel(DONE, undefined, {}, '?dryRun=true');
    expect(done.body).toMatchObject({ preview: { currentStatus: 'DONE', cancelWouldBeAccepted: false } });
    const unknown = await cancel('doesNotExist0001', undefined, {}, '?dryRun=true');
    expect(unknown.body).toMatchObject({
      preview: { found: false, currentStatus: null, cancelWouldBeAccepted: false },
    });
    expect(simulator.activation(BUSY)?.status).toBe('BUSY');
    expect(simulator.server.callsTo('/api/CancelNewSubscription')).toHaveLength(0);
  });

  it('maps a refused API key to 502 upstream-auth-failed without echoing the key', async () => {
    simulator.server.injectFault({ kind: 'status', status: 401, path: '/api/CancelNewSubscription' });
    const answer = await cancel(BUSY);
    expect(answer.status).toBe(502);
    expect(answer.body.type).toMatch(/upstream-auth-failed$/);
    expect(JSON.stringify(answer)).not.toContain(STN_SANDBOX_API_KEY);
  });

  it('maps 429 to 503 with Retry-After, 5xx to 502 and a timeout to 504, and lets the same key retry', async () => {
    const headers = { 'Idempotency-Key': key() };
    simulator.server.injectFault({ kind: 'status', status: 429, path: '/api/CancelNewSubscription' });
    const throttled = await cancel(BUSY, undefined, headers);
    expect(throttled.status).toBe(503);
    expect(throttled.headers['retry-after']).toBe('1');
    simulator.server.injectFault({ kind: 'status', status: 500, path: '/api/CancelNewSubscription' });
    expect((await cancel(BUSY, undefined, headers)).status).toBe(502);
    simulator.server.injectFault({ kind: 'hang', path: '/api/CancelNewSubscription' });
    expect((await cancel(BUSY, undefined, headers)).status).toBe(504);
    expect(simulator.cancellations()).toHaveLength(0);
    expect((await cancel(BUSY, undefined, headers)).status).toBe(200);
  });
});
