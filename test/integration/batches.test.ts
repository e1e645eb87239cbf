/**
 * Bulk cancellations end to end in-process: the batch routes' handlers, the operations' real handlers receiving the
 * items as from their queues (infra/local/batch-items.ts) and their follow-ups (infra/local/follow-ups.ts), DynamoDB
 * Local and the simulators over HTTP. sTN answers a cancel CANCELLING: the item is in_progress until its follow-up
 * finds it CANCELLED (short follow-up settings), and the batch completes then.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalBatchItems, installLocalBatchItems } from '../../infra/local/batch-items.js';
import { type LocalFollowUps, installLocalFollowUps } from '../../infra/local/follow-ups.js';
import { localOutcomeEvents } from '../../infra/local/sinks.js';
import type { BatchItemMessage } from '../../shared/batches/messages.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { batchRouteCaller } from '../../testkit/batch-routes.js';
import { loadOperation, startStn } from '../../testkit/harness.js';

let stn: StnSimulator;
let batchItems: LocalBatchItems;
let followUps: LocalFollowUps;
let routes: Awaited<ReturnType<typeof batchRouteCaller>>;
let activationHandler: unknown;
let serial = 0;

beforeAll(async () => {
  stn = await startStn({ seed: false, requestsPerSecond: 1000 });
  const { handler } = await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation', {
    UPSTREAM_TIMEOUT_MS: '1000',
    RECONCILE_AFTER_MS: '1',
    FOLLOW_UP_FIRST_DELAY_SECONDS: '1',
    FOLLOW_UP_MAX_DELAY_SECONDS: '2',
  });
  routes = await batchRouteCaller();
  activationHandler = handler;
  batchItems = installLocalBatchItems(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 200 });
  followUps = installLocalFollowUps(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 300 });
});
afterAll(async () => {
  await batchItems.stop();
  await followUps.stop();
  await stn.server.stop();
});

const call = (name: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}) =>
  routes.call(name, path, options);
const id = () => `batch${(serial += 1)}x${Math.random().toString(36).slice(2, 8)}`;
const until = (batchId: string, status: string) => routes.until(batchId, [status]);
/** A BUSY activation: its cancel answers CANCELLING, and it reads CANCELLED 300 ms later. */
const busy = (activationId: string) => activation(activationId, 'BUSY', { settlesAfterMs: 300 });

describe('a batch of sTN cancellations', () => {
  it('previews, confirms and runs a mixed batch: one effect per succeeded item, the invalid never sent', async () => {
    const pending = [id(), id(), id()];
    const done = id();
    for (const activationId of pending) stn.addActivation(busy(activationId));
    stn.addActivation(activation(done, 'DONE'));
    const csv = [
      'activationId,note',
      ...pending.map((activationId) => `${activationId},closing`),
      `${done},`,
      'bad id,',
    ].join('\n');
    const created = await call('create-batch', '/v1/batches?operation=cancel-activation', {
      body: csv,
      headers: { 'content-type': 'text/csv', 'Idempotency-Key': `batch-${pending[0]}` },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const batchId = (created.body as { batchId: string }).batchId;
    const previewed = await until(batchId, 'previewed');
    expect(previewed).toMatchObject({
      total: 5,
      counts: { pending: 4, invalid: 1 },
      preview: { summary: { wouldSucceed: 3, invalid: 1, unreadable: 0 } },
    });
    expect(stn.cancellations()).toHaveLength(0);

    const confirmed = await call('confirm-batch', `/v1/batches/${batchId}/confirm`);
    expect(confirmed.status).toBe(202);
    // Confirming twice sends nothing twice.
    expect((await call('confirm-batch', `/v1/batches/${batchId}/confirm`)).status).toBe(202);
    const completed = await until(batchId, 'completed');
    // Completed once the follow-ups found the CANCELLING ones CANCELLED: none is left in progress.
    expect(completed.counts).toMatchObject({ pending: 0, in_progress: 0, succeeded: 3, rejected: 1, invalid: 1 });
    for (const activationId of pending)
      expect(stn.cancellations().filter((cancelled) => cancelled.activationId === activationId)).toHaveLength(1);
    expect(stn.cancellations().filter((cancelled) => cancelled.activationId === done)).toHaveLength(0);

    // Once, with its counts, for whoever listens on the bus.
    const events = localOutcomeEvents.filter((event) => event.detail.batch?.batchId === batchId);
    expect(events.map((event) => event.detailType)).toEqual(['Batch Completed']);
    expect(events[0]?.detail.batch?.counts).toMatchObject({ in_progress: 0, succeeded: 3, rejected: 1, invalid: 1 });

    const report = await call('batch-items', `/v1/batches/${batchId}/items`, { headers: { accept: 'text/csv' } });
    const rows = String(report.body).trim().split(/\r?\n/);
    expect(rows[0]).toBe('index,status,operationId,problem,preview,input,errors');
    expect(rows.slice(1).map((row) => row.split(',')[1])).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'rejected',
      'invalid',
    ]);
  });

  it('a confirm cut short (its container died while sending the items) is finished by confirming again: each item once', async () => {
    const ids = Array.from({ length: 6 }, () => id());
    for (const activationId of ids) stn.addActivation(busy(activationId));
    const created = await call('create-batch', '/v1/batches', {
      body: JSON.stringify({ operation: 'cancel-activation', items: ids.map((activationId) => ({ activationId })) }),
      headers: { 'content-type': 'application/json', 'Idempotency-Key': `batch-cut-${ids[0]}` },
    });
    const batchId = (created.body as { batchId: string }).batchId;
    await until(batchId, 'previewed');
    // The queue takes two item messages, then the confirm's container dies (the send throws).
    await batchItems.stop();
    const { sendBatchItems, setBatchItemSink } = await import('../../shared/batches/messages.js');
    const taken: BatchItemMessage[] = [];
    setBatchItemSink((_operation, message) => {
      if (taken.length >= 2) throw new Error('the container died');
      taken.push(message);
    });
    expect((await call('confirm-batch', `/v1/batches/${batchId}/confirm`)).status).toBe(500);
    // A new container: the same confirm again sends what is left; the queue delivers every message it got.
    batchItems = installLocalBatchItems(new Map([['cancel-activation', activationHandler as never]]), {
      retryAfterMs: 200,
    });
    await sendBatchItems('cancel-activation', taken);
    expect((await call('confirm-batch', `/v1/batches/${batchId}/confirm`)).status).toBe(202);
    const completed = await until(batchId, 'completed');
    expect((completed as { counts: Record<string, number> }).counts).toMatchObject({
      pending: 0,
      in_progress: 0,
      succeeded: 6,
    });
    for (const activationId of ids)
      expect(stn.cancellations().filter((cancelled) => cancelled.activationId === activationId)).toHaveLength(1);
  });

  it('a create again while the first still runs sends nothing: every item\u2019s preview goes out once, from the first', async () => {
    const ids = Array.from({ length: 4 }, () => id());
    for (const activationId of ids) stn.addActivation(busy(activationId));
    const body = JSON.stringify({
      operation: 'cancel-activation',
      items: ids.map((activationId) => ({ activationId })),
    });
    const headers = { 'content-type': 'application/json', 'Idempotency-Key': `batch-twice-${ids[0]}` };
    // The first create has written its items and is sending their previews, slowly.
    await batchItems.stop();
    const { setBatchItemSink } = await import('../../shared/batches/messages.js');
    const sent: BatchItemMessage[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    setBatchItemSink(async (_operation, message) => {
      await held;
      sent.push(message);
    });
    const first = call('create-batch', '/v1/batches', { body, headers });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A client's retry meanwhile: answered as the same batch, without sending anything itself.
    const again = await call('create-batch', '/v1/batches', { body, headers });
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    release();
    expect((await first).status).toBe(202);
    expect(sent.map((message) => message.batchItem.index).sort()).toEqual([0, 1, 2, 3]);
    batchItems = installLocalBatchItems(new Map([['cancel-activation', activationHandler as never]]), {
      retryAfterMs: 200,
    });
  });
});
