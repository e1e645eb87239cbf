/**
 * eSIM Go follow-ups after a revoke, with the real mechanism (delayed messages delivered to the same handler, the
 * simulator over HTTP, DynamoDB Local): the refund the plan predicted is confirmed, or found missing, from eSIM Go's
 * history; an eSIM the revoke sent into the returns process ends gone or back in the account. Short settings.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type LocalFollowUps, installLocalFollowUps } from '../../infra/local/follow-ups.js';
import { localOutcomeEvents } from '../../infra/local/sinks.js';
import { type OperationRecord, readOperation } from '../../shared/audit.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type EsimGoSimulator, type ReturnsEnd, assignment } from '../../sandbox/esim-go/simulator.js';
import { type Handler, invoke, loadOperation, startEsimGo } from '../../testkit/harness.js';

let simulator: EsimGoSimulator;
let handler: Handler;
let definition: OperationDefinition;
let followUps: LocalFollowUps;
let serial = 0;

beforeAll(async () => {
  simulator = await startEsimGo({ seed: false, requestsPerSecond: 1000, returnsProcessMs: 1000 });
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'revoke-bundle', 'revokeBundle', {
    UPSTREAM_TIMEOUT_MS: '1000',
    RECONCILE_AFTER_MS: '1',
    ESIM_GO_REQUESTS_PER_SECOND: '1000',
    FOLLOW_UP_FIRST_DELAY_SECONDS: '1',
    FOLLOW_UP_MAX_DELAY_SECONDS: '2',
    FOLLOW_UP_DEADLINE_SECONDS: '30',
    ESIM_RETURN_CHECK_SECONDS: '2',
  }));
  followUps = installLocalFollowUps(new Map([['revoke-bundle', handler as never]]), { retryAfterMs: 300 });
});
afterAll(async () => {
  await followUps.stop();
  await simulator.server.stop();
});
beforeEach(() => simulator.setRefundsEnabled(true));

/** An eSIM with `bundles` unused assignments of b1 (refundable: unused, assigned yesterday). */
const esim = (options: { installed?: boolean; bundles?: number; returnsEndAs?: ReturnsEnd } = {}) => {
  const iccid = withLuhnCheckDigit(
    `8944${String(Date.now() % 1e8).padStart(8, '0')}${String((serial += 1)).padStart(6, '0')}`,
  );
  simulator.addEsim({
    iccid,
    profileStatus: options.installed === false ? 'Released' : 'Installed',
    inAccount: true,
    bundles: [
      {
        name: 'b1',
        description: 'follow-ups',
        assignments: Array.from({ length: options.bundles ?? 2 }, (_, index) =>
          assignment(String(index + 1), 'queued', 1),
        ),
      },
    ],
    ...(options.returnsEndAs === undefined ? {} : { returnsEndAs: options.returnsEndAs }),
  });
  return iccid;
};
const revoke = async (iccid: string, query = '') => {
  const answer = await invoke(handler, definition, {
    method: 'DELETE',
    path: `/v1/esim-go/esims/${iccid}/bundles/b1${query}`,
    headers: { 'Idempotency-Key': `follow-${iccid}` },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.operationId as string;
};
const until = async (operationId: string, done: (record: OperationRecord) => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await readOperation(operationId, { consistent: true });
    if (record !== undefined && done(record)) return record;
    if (Date.now() > deadline) throw new Error(`not done in time: ${JSON.stringify(record)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
const refundDone = (record: OperationRecord) => record.followUps?.refund?.done === true;
const eventsOf = (operationId: string) =>
  localOutcomeEvents.filter((event) => event.detail.operationId === operationId).map((event) => event.detailType);

describe('eSIM Go refund follow-up', () => {
  it('confirms the predicted refund from eSIM Go history: inventory, no mismatch, one event', async () => {
    const operationId = await revoke(esim());
    const record = await until(operationId, refundDone);
    expect(record.refund).toMatchObject({
      predicted: 'inventory',
      confirmed: 'inventory',
      bundle: 'b1',
      assignmentId: '1',
    });
    expect(record.refund?.checkedAt).toEqual(expect.any(String));
    expect(record.status).toBe('succeeded');
    expect(eventsOf(operationId)).toEqual(['Revoke Bundle Succeeded', 'Revoke Bundle Refund Confirmed']);
  });

  it('finds the refund missing when refunds are off for the organisation: confirmed none, a mismatch event', async () => {
    simulator.setRefundsEnabled(false);
    const operationId = await revoke(esim());
    const record = await until(operationId, refundDone);
    expect(record.refund).toMatchObject({ predicted: 'inventory', confirmed: 'none' });
    // Concluded only at the final check, after the checks backed off to the longest delay.
    expect(record.timeline?.map((entry) => entry.observed.outcome)).toEqual(['pending', 'pending', 'final']);
    expect(eventsOf(operationId)).toEqual(['Revoke Bundle Succeeded', 'Revoke Bundle Refund Mismatch']);
  });

  it('checks again while eSIM Go is down, then confirms', async () => {
    const iccid = esim();
    simulator.server.injectFault({ kind: 'status', status: 503, path: `/esims/${iccid}/history`, times: 1 });
    const record = await until(await revoke(iccid), refundDone);
    expect(record.refund?.confirmed).toBe('inventory');
    expect(record.timeline?.map((entry) => entry.observed.outcome)).toEqual(['unavailable', 'final']);
  });

  it('a redelivered refund check changes nothing twice', async () => {
    const operationId = await revoke(esim());
    const record = await until(operationId, refundDone);
    const first = followUps.sent.find((sent) => sent.message.operationId === operationId)?.message;
    await Promise.all([followUps.deliver(first as never), followUps.deliver(first as never)]);
    expect((await readOperation(operationId, { consistent: true }))?.timeline).toEqual(record.timeline);
    expect(eventsOf(operationId).filter((event) => event.endsWith('Refund Confirmed'))).toHaveLength(1);
  });
});

describe('eSIM Go returns-process follow-up', () => {
  it.each([
    ['gone', 'Revoke Bundle eSIM Gone'],
    ['back_in_account', 'Revoke Bundle eSIM Back In Account'],
  ] as const)('a revoke that sent the eSIM into the returns process records where it ended: %s', async (end, event) => {
    const iccid = esim({ installed: false, bundles: 1, returnsEndAs: end });
    const operationId = await revoke(iccid, '?allowEsimReturn=true');
    expect((await readOperation(operationId, { consistent: true }))?.esimReturn).toBe('in_returns');
    const record = await until(operationId, (current) => current.followUps?.['esim-return']?.done === true);
    expect(record.esimReturn).toBe(end);
    expect(eventsOf(operationId)).toContain(event);
    // Its refund cannot be read from the history of an eSIM no longer in the account.
    const refunded = await until(operationId, refundDone);
    expect(refunded.timeline?.some((entry) => entry.source === 'follow-up:refund')).toBe(true);
  });
});
