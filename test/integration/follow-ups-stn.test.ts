/**
 * sTN follow-ups drive a CANCELLING cancellation to a final state, with the real mechanism: the handler sends each
 * follow-up as a delayed message (here to the local follow-up queue, which delivers it to the same handler as its SQS
 * queue would), reads sTN, writes the check to the record once, and sends the next with backoff. Short settings; no
 * fake clock.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalFollowUps, installLocalFollowUps } from '../../infra/local/follow-ups.js';
import { localOutcomeEvents } from '../../infra/local/sinks.js';
import { type OperationRecord, readOperation } from '../../shared/audit.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { type Handler, invoke, loadOperation, startStn } from '../../testkit/harness.js';

let simulator: StnSimulator;
let handler: Handler;
let definition: OperationDefinition;
let followUps: LocalFollowUps;
let serial = 0;

beforeAll(async () => {
  simulator = await startStn({ seed: false, requestsPerSecond: 1000 });
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation', {
    UPSTREAM_TIMEOUT_MS: '400',
    RECONCILE_AFTER_MS: '1',
    FOLLOW_UP_FIRST_DELAY_SECONDS: '1',
    FOLLOW_UP_MAX_DELAY_SECONDS: '2',
    FOLLOW_UP_DEADLINE_SECONDS: '6',
  }));
  followUps = installLocalFollowUps(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 300 });
});
afterAll(async () => {
  await followUps.stop();
  await simulator.server.stop();
});

/** A BUSY activation that, once cancelled, settles as given; cancelled with a new key. */
const cancelled = async (settlesTo: string, settlesAfterMs = 1500) => {
  const id = `followUp${(serial += 1)}x${Math.random().toString(36).slice(2, 8)}`;
  simulator.addActivation(activation(id, 'BUSY', { settlesTo, settlesAfterMs }));
  const answer = await invoke(handler, definition, {
    method: 'POST',
    path: `/v1/stn/activations/${id}/cancel`,
    headers: { 'Idempotency-Key': `follow-${id}` },
  });
  expect(answer.body.status).toBe('in_progress');
  return { id, operationId: answer.body.operationId as string };
};

const until = async (operationId: string, done: (record: OperationRecord) => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await readOperation(operationId, { consistent: true });
    if (record !== undefined && done(record)) return record;
    if (Date.now() > deadline) throw new Error(`not final in time: ${JSON.stringify(record?.timeline)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
const final = (record: OperationRecord) => record.followUps?.settle?.done === true;
const eventsOf = (operationId: string) =>
  localOutcomeEvents.filter((event) => event.detail.operationId === operationId).map((event) => event.detailType);

describe('sTN follow-ups', () => {
  it.each([
    ['CANCELLED', 'succeeded', 'Cancel Activation Succeeded'],
    ['ERROR', 'failed', 'Cancel Activation Failed'],
    ['DONE', 'failed', 'Cancel Activation Failed'],
  ])(
    'an activation that settles to %s makes the operation %s, with one outcome event',
    async (settlesTo, status, event) => {
      const { operationId } = await cancelled(settlesTo);
      const record = await until(operationId, final);
      expect(record.status).toBe(status);
      expect(record.timeline?.at(-1)).toMatchObject({
        source: 'follow-up:settle',
        status,
        observed: expect.objectContaining({ outcome: 'final', activationStatus: settlesTo }),
      });
      expect(eventsOf(operationId)).toEqual(['Cancel Activation In Progress', event]);
    },
  );

  it('checks again with backoff while sTN still says CANCELLING, one timeline entry per check', async () => {
    const { operationId } = await cancelled('CANCELLED', 3500);
    const record = await until(operationId, final);
    expect(record.status).toBe('succeeded');
    const observed = (record.timeline ?? []).map((entry) => entry.observed);
    expect(observed.map((entry) => entry.check)).toEqual(observed.map((_, index) => index + 1));
    expect(observed.slice(0, -1).every((entry) => entry.activationStatus === 'CANCELLING')).toBe(true);
    expect(observed.length).toBeGreaterThanOrEqual(2);
  });

  it('a redelivered follow-up changes nothing twice: no second timeline entry, no second event', async () => {
    const { operationId } = await cancelled('CANCELLED', 500);
    const record = await until(operationId, final);
    const first = followUps.sent.find((sent) => sent.message.operationId === operationId)?.message;
    expect(first).toBeDefined();
    // The same check delivered again, twice at once, after it was written.
    await Promise.all([followUps.deliver(first as never), followUps.deliver(first as never)]);
    const after = await readOperation(operationId, { consistent: true });
    expect(after?.timeline).toEqual(record.timeline);
    expect(eventsOf(operationId)).toEqual(['Cancel Activation In Progress', 'Cancel Activation Succeeded']);
  });

  it('a check while sTN is down is recorded as unavailable and retried; the operation still ends succeeded', async () => {
    const { operationId } = await cancelled('CANCELLED', 500);
    simulator.server.injectFault({ kind: 'status', status: 503, path: '/api/QueryActivation', times: 1 });
    const record = await until(operationId, final);
    expect(record.status).toBe('succeeded');
    expect(record.timeline?.map((entry) => entry.observed.outcome)).toEqual(['unavailable', 'final']);
  });

  it('a status sTN does not document is recorded, never taken as final, and the operation stalls at the deadline', async () => {
    const { operationId } = await cancelled('ROLLED_BACK', 200);
    const record = await until(operationId, final, 30_000);
    expect(record.status).toBe('stalled');
    const observed = (record.timeline ?? []).map((entry) => entry.observed);
    expect(observed.some((entry) => entry.activationStatus === 'ROLLED_BACK')).toBe(true);
    expect(observed.at(-1)?.outcome).toBe('stalled');
    expect(eventsOf(operationId)).toEqual(['Cancel Activation In Progress', 'Cancel Activation Stalled']);
  }, 40_000);
});
