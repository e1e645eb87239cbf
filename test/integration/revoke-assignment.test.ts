/**
 * The revoke-assignment handler in-process, against DynamoDB Local and the eSIM Go simulator over HTTP, over HTTP and
 * from the bus. The simulator's own record of revocations is the ground truth.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { toEventBridgeEvent, toSqsRecord } from '../../infra/local/events.js';
import { installLocalSinks, localOutcomeEvents } from '../../infra/local/sinks.js';
import { randomUUID } from 'node:crypto';
import { type EsimGoSimulator, assignment } from '../../sandbox/esim-go/simulator.js';
import { createOperationHandler } from '../../shared/handler.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { revokeBundle } from '../../shared/operations/revoke-bundle/index.js';
import { revokeAssignment } from '../../shared/operations/revoke-assignment/index.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type Answer, type Handler, forgetTargets, invoke, loadOperation, startEsimGo } from '../../testkit/harness.js';

let simulator: EsimGoSimulator;
let handler: Handler;
let definition: OperationDefinition;

const TWO_UNUSED = '8943108165015003887'; // Released; esim_1GB_7D_GB_V2: 243 (3 days), 245 (1 day), both queued
const LAST_BUNDLE = '8943108160000804845'; // Released; esim_1GB_7D_GB_V2: 401 queued, nothing else
const BUNDLE = 'esim_1GB_7D_GB_V2';
const RECONCILE_AFTER_MS = 300;

const key = () => `key-${Math.random().toString(36).slice(2)}`;
const revoke = (
  iccid: string,
  assignmentId: string,
  query = '',
  headers: Record<string, string> = { 'Idempotency-Key': key() },
): Promise<Answer> =>
  invoke(handler, definition, {
    method: 'DELETE',
    path: `/v1/esim-go/esims/${iccid}/bundles/${BUNDLE}/assignments/${assignmentId}${query}`,
    headers,
  });
const revoked = (iccid: string) =>
  simulator
    .revocations()
    .filter((revocation) => revocation.iccid === iccid)
    .map((revocation) => revocation.assignmentId);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  simulator = await startEsimGo({ requestsPerSecond: 1000 });
  installLocalSinks();
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'revoke-assignment', 'revokeAssignment', {
    UPSTREAM_TIMEOUT_MS: '1000',
    RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
    ESIM_GO_REQUESTS_PER_SECOND: '1000',
  }));
});
afterAll(async () => simulator.server.stop());
beforeEach(async () => {
  simulator.reset();
  simulator.server.clearFaults();
  await forgetTargets();
});

describe('revoke-assignment', () => {
  it('revokes exactly the named assignment (not the oldest), and a replay revokes nothing more', async () => {
    const headers = { 'Idempotency-Key': key() };
    const first = await revoke(TWO_UNUSED, '245', '', headers);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      operation: 'revoke-assignment',
      status: 'succeeded',
      target: `iccid:${TWO_UNUSED}/bundle:${BUNDLE}/assignment:245`,
      plan: { target: { id: '245' } },
    });
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
    const replay = await revoke(TWO_UNUSED, '245', '', headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
    // A new key for the same assignment: eSIM Go refuses it (already revoked), nothing more is revoked.
    const again = await revoke(TWO_UNUSED, '245');
    expect(again.status).toBe(422);
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
  });

  it('refuses to hand an uninstalled eSIM back (422 esim-return-risk, no write), and proceeds with allowEsimReturn=true', async () => {
    const refused = await revoke(LAST_BUNDLE, '401');
    expect(refused.status).toBe(422);
    expect(refused.body.type).toMatch(/esim-return-risk$/);
    expect(simulator.server.calls.filter((call) => call.method === 'DELETE')).toHaveLength(0);
    expect(simulator.esim(LAST_BUNDLE)?.inAccount).toBe(true);
    const accepted = await revoke(LAST_BUNDLE, '401', '?allowEsimReturn=true');
    expect(accepted.status).toBe(200);
    expect(revoked(LAST_BUNDLE)).toEqual(['401']);
    expect(simulator.esim(LAST_BUNDLE)?.inAccount).toBe(false);
  });

  it('names the bad field before any provider call', async () => {
    const bad = await invoke(handler, definition, {
      method: 'DELETE',
      path: `/v1/esim-go/esims/${TWO_UNUSED}/bundles/${BUNDLE}/assignments/${encodeURIComponent('no spaces')}`,
      headers: { 'Idempotency-Key': key() },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('assignmentId');
    const noOffer = await revoke(TWO_UNUSED, '245', '?refundToBalance=true');
    expect(noOffer.status).toBe(400);
    expect(JSON.stringify(noOffer.body)).toContain('offerId');
    expect(simulator.server.calls).toHaveLength(0);
  });

  it('a lost answer whose revoke was applied is reconciled: the retry answers success and revokes nothing more', async () => {
    simulator.server.injectFault({ kind: 'apply-then-reset', method: 'DELETE', matching: TWO_UNUSED });
    const headers = { 'Idempotency-Key': key() };
    const lost = await revoke(TWO_UNUSED, '245', '', headers);
    expect([502, 504]).toContain(lost.status);
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
    await sleep(RECONCILE_AFTER_MS + 50);
    const retry = await revoke(TWO_UNUSED, '245', '', headers);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: 'succeeded', reconciled: true });
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
    // Another key on the same eSIM meanwhile saw a settled target, not a second revoke of 245.
    expect(
      simulator.server.calls.filter((call) => call.method === 'DELETE' && call.query.type !== 'validate'),
    ).toHaveLength(1);
  });

  it('a lost answer whose revoke was not applied is sent again once', async () => {
    simulator.server.injectFault({ kind: 'reset', method: 'DELETE', matching: TWO_UNUSED });
    const headers = { 'Idempotency-Key': key() };
    const lost = await revoke(TWO_UNUSED, '245', '', headers);
    expect([502, 504]).toContain(lost.status);
    expect(revoked(TWO_UNUSED)).toEqual([]);
    await sleep(RECONCILE_AFTER_MS + 50);
    const retry = await revoke(TWO_UNUSED, '245', '', headers);
    expect(retry.status).toBe(200);
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
  });

  it('a dry run says whether that assignment is refundable and matches what the revoke then does', async () => {
    const preview = await revoke(TWO_UNUSED, '245', '?dryRun=true', {});
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      preview: { target: { id: '245' }, refundable: true, wouldBeRefusedByGuard: false, esimReturnRisk: false },
    });
    expect(revoked(TWO_UNUSED)).toEqual([]);
    const done = await revoke(TWO_UNUSED, '245');
    expect(done.status).toBe(200);
    const plan = preview.body.preview as { target: unknown; refund: unknown; bundlesLeftAfter: number };
    expect(done.body.plan).toMatchObject({
      target: plan.target,
      refund: plan.refund,
      bundlesLeftAfter: plan.bundlesLeftAfter,
    });
    expect(revoked(TWO_UNUSED)).toEqual(['245']);
    // A used assignment is not refundable, and the preview says so.
    const last = await revoke(LAST_BUNDLE, '401', '?dryRun=true', {});
    expect(last.body).toMatchObject({
      preview: { target: { id: '401' }, esimReturnRisk: true, wouldBeRefusedByGuard: true },
    });
  });

  it("shares the eSIM's lease with the revoke by name: the two at once on its last two bundles revoke one, and the eSIM stays", async () => {
    const iccid = withLuhnCheckDigit('894310816501500999');
    const twoBundles = () =>
      simulator.addEsim({
        iccid,
        profileStatus: 'Released',
        inAccount: true,
        bundles: [
          { name: 'b1', description: 'b1', assignments: [assignment('71', 'queued', 2)] },
          { name: BUNDLE, description: BUNDLE, assignments: [assignment('72', 'queued', 1)] },
        ],
      });
    // Both plans are read before either write: each read is evaluated on arrival and answered 600 ms later.
    const overlappingReads = () =>
      simulator.server.injectFault({
        kind: 'stale-answer',
        method: 'GET',
        path: `/esims/${iccid}/bundles`,
        latencyMs: 600,
        times: 2,
      });
    const both = (byName: Handler, byAssignment: Handler) =>
      Promise.all([
        invoke(byName, revokeBundle, {
          method: 'DELETE',
          path: `/v1/esim-go/esims/${iccid}/bundles/b1`,
          headers: { 'Idempotency-Key': key() },
        }),
        invoke(byAssignment, definition, {
          method: 'DELETE',
          path: `/v1/esim-go/esims/${iccid}/bundles/${BUNDLE}/assignments/72`,
          headers: { 'Idempotency-Key': key() },
        }),
      ]);
    const byName = createOperationHandler(revokeBundle) as unknown as Handler;

    twoBundles();
    overlappingReads();
    const leased = await both(byName, handler);
    expect(leased.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(revoked(iccid)).toHaveLength(1);
    expect(simulator.esim(iccid)?.inAccount).toBe(true);

    // The same with the lease switched off (each request its own target): both pass the guard, the eSIM is handed back.
    simulator.reset();
    await forgetTargets();
    twoBundles();
    overlappingReads();
    const unleased = await both(
      createOperationHandler({ ...revokeBundle, lease: () => randomUUID() }) as unknown as Handler,
      createOperationHandler({ ...revokeAssignment, lease: () => randomUUID() }) as unknown as Handler,
    );
    expect(unleased.map((answer) => answer.status)).toEqual([200, 200]);
    expect(simulator.esim(iccid)?.inAccount).toBe(false);
  });

  it('runs from a "Revoke Assignment Requested" bus event, once per key however often it is delivered', async () => {
    const idempotencyKey = key();
    const event = toEventBridgeEvent({
      Source: 'shop.orders',
      DetailType: 'Revoke Assignment Requested',
      Detail: JSON.stringify({ idempotencyKey, input: { iccid: TWO_UNUSED, name: BUNDLE, assignmentId: '243' } }),
    });
    const record = () => toSqsRecord(JSON.stringify(event), 'revoke-assignment', { via: 'bus' });
    const consume = handler as unknown as (
      event: SQSEvent,
      context: ReturnType<typeof lambdaContext>,
    ) => Promise<SQSBatchResponse>;
    const first = await consume({ Records: [record()] }, lambdaContext('revoke-assignment', 28_000));
    const redelivered = await consume({ Records: [record()] }, lambdaContext('revoke-assignment', 28_000));
    expect(first.batchItemFailures).toEqual([]);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(revoked(TWO_UNUSED)).toEqual(['243']);
    expect(
      localOutcomeEvents.some(
        (outcome) =>
          outcome.detailType === 'Revoke Assignment Succeeded' &&
          outcome.detail.target === `iccid:${TWO_UNUSED}/bundle:${BUNDLE}/assignment:243`,
      ),
    ).toBe(true);
  });
});
