/**
 * The revoke-bundle handler in-process, against DynamoDB Local and the eSIM Go simulator over HTTP.
 * The simulator's own record of revocations is the ground truth for "what happened at eSIM Go".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import type { EsimGoSimulator } from '../../sandbox/esim-go/simulator.js';
import { type Answer, type Handler, forgetTargets, invoke, loadOperation, startEsimGo } from '../../testkit/harness.js';

let simulator: EsimGoSimulator;
let handler: Handler;
let definition: OperationDefinition;

const TWO_UNUSED = '8943108165015003887'; // Released; esim_1GB_7D_GB_V2: 243 (3 days), 245 (1 day), both queued
const INSTALLED = '8944538532008160222'; // Installed; esim_1GB_7D_GB_V2: 301 queued; esim_3GB_30D_EU_V2: 302 active
const LAST_BUNDLE = '8943108160000804845'; // Released; esim_1GB_7D_GB_V2: 401 queued, nothing else
const BUNDLE = 'esim_1GB_7D_GB_V2';

const key = () => `key-${Math.random().toString(36).slice(2)}`;
const revoke = (
  iccid: string,
  query = '',
  headers: Record<string, string> = { 'Idempotency-Key': key() },
  bundle = BUNDLE,
): Promise<Answer> =>
  invoke(handler, definition, {
    method: 'DELETE',
    path: `/v1/esim-go/esims/${iccid}/bundles/${bundle}${query}`,
    headers,
  });
const writes = () =>
  simulator.server.calls.filter((call) => call.method === 'DELETE' && call.query.type !== 'validate');

beforeAll(async () => {
  simulator = await startEsimGo({ requestsPerSecond: 1000 });
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'revoke-bundle', 'revokeBundle', {
    UPSTREAM_TIMEOUT_MS: '2500',
    ESIM_GO_REQUESTS_PER_SECOND: '1000',
  }));
});
afterAll(async () => simulator.server.stop());
beforeEach(async () => {
  simulator.reset();
  await forgetTargets();
});

describe('revoke-bundle', () => {
  it('revokes the oldest unused assignment, and a replay revokes nothing more', async () => {
    const headers = { 'Idempotency-Key': key() };
    const first = await revoke(TWO_UNUSED, '', headers);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      operation: 'revoke-bundle',
      status: 'succeeded',
      plan: { target: { id: '243' } },
      upstream: { status: 200 },
    });
    expect(simulator.revocations().map((revocation) => revocation.assignmentId)).toEqual(['243']);

    const replay = await revoke(TWO_UNUSED, '', headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(simulator.revocations()).toHaveLength(1);
    expect(writes()).toHaveLength(1);
  });

  it.each([
    ['dryRun=true', '?dryRun=true'],
    ['type=validate', '?type=validate'],
  ])('a dry run (%s) changes nothing and predicts exactly what the real revoke then does', async (_label, query) => {
    const preview = await revoke(TWO_UNUSED, query, {});
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      status: 'validated',
      preview: {
        target: { id: '243', bundleState: 'queued' },
        refund: { eligible: true, destination: 'inventory' },
        esimReturnRisk: false,
        bundlesLeftAfter: 1,
        upstreamAccepts: true,
      },
    });
    expect((preview.body.upstream as { body: { status: string } }).body.status).toMatch(
      /243 .* would be revoked and refunded to inventory/,
    );
    expect(simulator.revocations()).toHaveLength(0);
    expect(writes()).toHaveLength(0);
    expect(simulator.server.calls.filter((call) => call.method === 'DELETE').map((call) => call.query.type)).toEqual([
      'validate',
    ]);

    const real = await revoke(TWO_UNUSED);
    expect(real.status).toBe(200);
    const preview_ = preview.body.preview as { target: { id: string }; refund: { destination: string } };
    expect(simulator.revocations()).toEqual([
      expect.objectContaining({ assignmentId: preview_.target.id, refund: preview_.refund.destination }),
    ]);
  });

  it('shows eSIM Go refusing a refund in the dry run when refunds are not enabled for the organisation', async () => {
    simulator.setRefundsEnabled(false);
    const preview = await revoke(TWO_UNUSED, '?dryRun=true', {});
    expect((preview.body.upstream as { body: { status: string } }).body.status).toMatch(
      /without refund: refunds are not enabled/,
    );
    await revoke(TWO_UNUSED);
    expect(simulator.revocations()).toEqual([expect.objectContaining({ assignmentId: '243', refund: null })]);
  });

  it('refuses to hand an uninstalled eSIM back (422 esim-return-risk, no write), and proceeds with allowEsimReturn=true', async () => {
    const preview = await revoke(LAST_BUNDLE, '?dryRun=true', {});
    expect(preview.body.preview).toMatchObject({ esimReturnRisk: true, wouldBeRefusedByGuard: true });

    const refused = await revoke(LAST_BUNDLE);
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.body).toMatchObject({
      type: expect.stringMatching(/esim-return-risk$/),
      plan: { target: { id: '401' }, bundlesLeftAfter: 0, profileStatus: 'Released' },
    });
    expect(refused.body.detail).toMatch(/allowEsimReturn=true/);
    expect(writes()).toHaveLength(0);
    expect(simulator.revocations()).toHaveLength(0);

    const allowed = await revoke(LAST_BUNDLE, '?allowEsimReturn=true');
    expect(allowed.status).toBe(200);
    expect(simulator.revocations().map((revocation) => revocation.assignmentId)).toEqual(['401']);
    expect(simulator.esim(LAST_BUNDLE)?.inAccount).toBe(false);
  });

  it('does not guard an installed eSIM', async () => {
    const answer = await revoke(INSTALLED);
    expect(answer.status).toBe(200);
    expect(simulator.revocations().map((revocation) => revocation.assignmentId)).toEqual(['301']);
  });

  it('refunds to balance only when the rules allow', async () => {
    const eligible = await revoke(INSTALLED, '?refundToBalance=true&offerId=301');
    expect(eligible.status).toBe(200);
    expect(eligible.body).toMatchObject({ plan: { refund: { eligible: true, destination: 'balance' } } });

    const started = await revoke(
      INSTALLED,
      '?refundToBalance=true&offerId=302',
      { 'Idempotency-Key': key() },
      'esim_3GB_30D_EU_V2',
    );
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({
      plan: { target: { id: '302', bundleState: 'active' }, refund: { eligible: false, destination: null } },
    });
    expect(simulator.revocations().map((revocation) => [revocation.assignmentId, revocation.refund])).toEqual([
      ['301', 'balance'],
      ['302', null],
    ]);
  });

  it.each([
    ['refundToBalance=true without offerId', `/${TWO_UNUSED}/bundles/${BUNDLE}?refundToBalance=true`, 'offerId'],
    ['a bundle name with a space', `/${TWO_UNUSED}/bundles/esim%201GB`, 'name'],
    ['an unknown type', `/${TWO_UNUSED}/bundles/${BUNDLE}?type=execute`, 'type'],
    ['a wrong ICCID check digit', `/8943108165015003886/bundles/${BUNDLE}`, 'iccid'],
    ['a misspelt query parameter', `/${TWO_UNUSED}/bundles/${BUNDLE}?allowEsimreturn=true`, 'allowEsimreturn'],
    ['refundToBalance=yes', `/${TWO_UNUSED}/bundles/${BUNDLE}?refundToBalance=yes&offerId=243`, 'refundToBalance'],
  ])('refuses %s with 400 naming the field, before any provider call', async (_label, suffix, field) => {
    const answer = await invoke(handler, definition, {
      method: 'DELETE',
      path: `/v1/esim-go/esims${suffix}`,
      headers: { 'Idempotency-Key': key() },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('maps eSIM Go 400 to 422 upstream-rejected with its message', async () => {
    const answer = await revoke(TWO_UNUSED, '?refundToBalance=true&offerId=999');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      type: expect.stringMatching(/upstream-rejected$/),
      detail: 'offerId 999 is not an assignment of esim_1GB_7D_GB_V2',
      upstream: { status: 400 },
    });
    expect(simulator.revocations()).toHaveLength(0);
  });

  it('maps eSIM Go 403 (bundle names are case-sensitive) to 422 upstream-rejected', async () => {
    const answer = await revoke(TWO_UNUSED, '', { 'Idempotency-Key': key() }, 'ESIM_1GB_7D_GB_V2');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ upstream: { status: 403 } });
    expect(simulator.revocations()).toHaveLength(0);
  });

  it('maps eSIM Go 429 to 503 with Retry-After, saves nothing, and a retry with the same key revokes once', async () => {
    simulator.server.injectFault({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 2,
      path: `/esims/${TWO_UNUSED}/bundles/${BUNDLE}`,
    });
    const headers = { 'Idempotency-Key': key() };
    const throttled = await revoke(TWO_UNUSED, '', headers);
    expect(throttled.status).toBe(503);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(simulator.revocations()).toHaveLength(0);
    // Within Retry-After nothing goes to eSIM Go: the gateway's limiter holds every start until then.
    const calls = simulator.server.calls.length;
    const early = await revoke(TWO_UNUSED, '', headers);
    expect(early.status).toBe(503);
    expect(simulator.server.calls.length).toBe(calls);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await revoke(TWO_UNUSED, '', headers)).status).toBe(200);
    expect(simulator.revocations()).toHaveLength(1);
  });

  it('maps eSIM Go 500 on the revoke to 502 and a timeout to 504', async () => {
    simulator.server.injectFault({ kind: 'status', status: 500, path: `/esims/${TWO_UNUSED}/bundles/${BUNDLE}` });
    expect((await revoke(TWO_UNUSED)).status).toBe(502);
    // The 500's outcome is unknown: another key on that eSIM must wait until it can be reconciled.
    const busy = await revoke(TWO_UNUSED);
    expect(busy.status).toBe(409);
    expect(busy.body.type).toMatch(/target-busy$/);
    simulator.server.injectFault({ kind: 'hang', path: `/esims/${INSTALLED}/bundles/${BUNDLE}` });
    const timedOut = await revoke(INSTALLED);
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.type).toMatch(/upstream-timeout$/);
  });

  it('waits out a 503 "processing" on a read when Retry-After fits the time budget', async () => {
    simulator.server.injectFault({ kind: 'status', status: 503, retryAfterSeconds: 1, path: `/esims/${TWO_UNUSED}` });
    const answer = await revoke(TWO_UNUSED);
    expect(answer.status).toBe(200);
    expect(simulator.server.callsTo(`/esims/${TWO_UNUSED}`)).toHaveLength(2);
  });

  it('ends with 503 and nothing revoked when a read keeps answering "processing" past the budget', async () => {
    simulator.server.injectFault({ kind: 'status', status: 503, retryAfterSeconds: 30, path: `/esims/${TWO_UNUSED}` });
    const answer = await revoke(TWO_UNUSED);
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('30');
    expect(writes()).toHaveLength(0);
  });
});
