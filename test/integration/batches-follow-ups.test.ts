/**
 * Batch items the provider completes later (sTN answers CANCELLING): the item is `in_progress` until its operation's
 * follow-up makes the operation final, then takes its final status, and the batch is completed only then. The real
 * mechanism in-process: the batch routes' handlers, the operation's handler receiving the items (infra/local/batch-items.ts)
 * and its follow-ups (infra/local/follow-ups.ts) as from its queue, DynamoDB Local and the sTN simulator over HTTP.
 * Short follow-up settings; no fake clock.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { type LocalBatchItems, installLocalBatchItems } from '../../infra/local/batch-items.js';
import { toSqsRecord } from '../../infra/local/events.js';
import { type LocalFollowUps, installLocalFollowUps } from '../../infra/local/follow-ups.js';
import { localOutcomeEvents } from '../../infra/local/sinks.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { type OperationRecord, readOperation } from '../../shared/audit.js';
import { setBatchItemSink } from '../../shared/batches/messages.js';
import type { FollowUpMessage } from '../../shared/follow-ups/schedule.js';
import { LOCAL_BATCH_SENDER_ID } from '../../shared/queue/consumer.js';
import { type BatchBody, batchRouteCaller } from '../../testkit/batch-routes.js';
import { clearDynamoDBFaults, failDynamoDB, pendingDynamoDBFaults } from '../../testkit/dynamodb-faults.js';
import { loadOperation, startStn } from '../../testkit/harness.js';

type QueueHandler = (event: unknown, context: unknown) => Promise<SQSBatchResponse>;
interface Item {
  index: number;
  status: string;
  operationId?: string | null;
  problem?: { type: string; status: number; detail: string } | null;
  updatedAt: string;
}

let stn: StnSimulator;
let handler: QueueHandler;
let batchItems: LocalBatchItems;
let followUps: LocalFollowUps;
let routes: Awaited<ReturnType<typeof batchRouteCaller>>;
let serial = 0;

beforeAll(async () => {
  stn = await startStn({ seed: false, requestsPerSecond: 1000 });
  ({ handler } = (await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation', {
    UPSTREAM_TIMEOUT_MS: '1000',
    RECONCILE_AFTER_MS: '1',
    FOLLOW_UP_FIRST_DELAY_SECONDS: '1',
    FOLLOW_UP_MAX_DELAY_SECONDS: '2',
    FOLLOW_UP_DEADLINE_SECONDS: '6',
  })) as unknown as { handler: QueueHandler });
  routes = await batchRouteCaller();
  batchItems = installLocalBatchItems(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 200 });
  followUps = installLocalFollowUps(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 300 });
});
afterEach(() => clearDynamoDBFaults());
afterAll(async () => {
  await batchItems.stop();
  await followUps.stop();
  await stn.server.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newId = () => `settle${(serial += 1)}x${Math.random().toString(36).slice(2, 8)}`;
/** A BUSY activation that, once cancelled, stays CANCELLING for `afterMs`, then reads `settlesTo`. */
const settling = (settlesTo: string, afterMs = 300) => {
  const id = newId();
  stn.addActivation(activation(id, 'BUSY', { settlesTo, settlesAfterMs: afterMs }));
  return id;
};

const getBatch = async (batchId: string) =>
  (await routes.call('get-batch', `/v1/batches/${batchId}`)).body as BatchBody;
const itemsOf = async (batchId: string) =>
  ((await routes.call('batch-items', `/v1/batches/${batchId}/items?limit=1000`)).body as unknown as { items: Item[] })
    .items;
const completedEvents = (batchId: string) =>
  localOutcomeEvents.filter(
    (event) => event.detailType === 'Batch Completed' && event.detail.batch?.batchId === batchId,
  );
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((total, count) => total + count, 0);

/** A previewed batch of cancel-activation over these activation ids. */
const previewed = async (activationIds: string[]) => {
  const created = await routes.call('create-batch', '/v1/batches', {
    body: JSON.stringify({
      operation: 'cancel-activation',
      items: activationIds.map((activationId) => ({ activationId })),
    }),
    headers: { 'content-type': 'application/json', 'Idempotency-Key': `settle-${newId()}` },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const batchId = (created.body as BatchBody).batchId;
  await routes.until(batchId, ['previewed']);
  return batchId;
};

/** Reads the batch every 100 ms until it is completed: every snapshot on the way. */
const watch = async (batchId: string, timeoutMs = 20_000) => {
  const seen: BatchBody[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await getBatch(batchId);
    seen.push(batch);
    if (batch.status === 'completed') return seen;
    if (Date.now() > deadline) throw new Error(`batch not completed: ${JSON.stringify(batch)}`);
    await sleep(100);
  }
};

const untilRecord = async (operationId: string, done: (record: OperationRecord) => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await readOperation(operationId, { consistent: true });
    if (record !== undefined && done(record)) return record;
    if (Date.now() > deadline) throw new Error(`record not there in time: ${JSON.stringify(record)}`);
    await sleep(100);
  }
};

describe('batch items that end in progress', () => {
  it('stay in_progress while the batch runs, then take the final state their follow-up finds; one Batch Completed', async () => {
    const cancelled = settling('CANCELLED');
    const cancelledLater = settling('CANCELLED', 2500);
    const failed = settling('ERROR');
    const stalled = settling('ROLLED_BACK', 200); // a status sTN does not document: stalled at the deadline
    const done = newId();
    stn.addActivation(activation(done, 'DONE'));
    const batchId = await previewed([cancelled, cancelledLater, failed, stalled, done, 'not an id']);

    expect((await routes.call('confirm-batch', `/v1/batches/${batchId}/confirm`)).status).toBe(202);
    const seen = await watch(batchId, 30_000);

    // Counts always add up to the total, and the batch is running for as long as an item is in progress.
    for (const batch of seen) expect(sum(batch.counts), JSON.stringify(batch.counts)).toBe(6);
    for (const batch of seen) if ((batch.counts.in_progress ?? 0) > 0) expect(batch.status).toBe('running');
    // All sent and answered, some settled, some still in progress: still running.
    expect(
      seen.some(
        (batch) =>
          batch.status === 'running' &&
          batch.counts.pending === 0 &&
          (batch.counts.succeeded ?? 0) >= 1 &&
          (batch.counts.in_progress ?? 0) >= 1,
      ),
    ).toBe(true);

    const completed = seen.at(-1) as BatchBody;
    const counts = { pending: 0, in_progress: 0, succeeded: 2, failed: 2, rejected: 1, invalid: 1, cancelled: 0 };
    expect(completed.counts).toEqual(counts);
    const items = await itemsOf(batchId);
    expect(items.map((item) => item.status)).toEqual([
      'succeeded',
      'succeeded',
      'failed',
      'failed',
      'rejected',
      'invalid',
    ]);
    const [, , error, never] = items as [Item, Item, Item, Item];
    expect(error.problem).toEqual({
      type: 'upstream-failed',
      status: 502,
      detail: expect.stringMatching(/activationStatus ERROR.*GET \/v1\/operations\/op_/),
    });
    expect(never.problem).toEqual({
      type: 'stalled',
      status: 504,
      detail: `Still not final at the follow-up deadline: the provider never gave a final state; see GET /v1/operations/${never.operationId}`,
    });
    // The operations' records say the same, and name the item they ran.
    for (const [index, status] of [
      [0, 'succeeded'],
      [2, 'failed'],
      [3, 'stalled'],
    ] as const) {
      const record = await readOperation(items[index]?.operationId as string, { consistent: true });
      expect(record).toMatchObject({ status, source: 'batch', batch: { batchId, index } });
    }
    // Completed only after the last one (the stall) was final.
    const stallRecord = await readOperation(never.operationId as string, { consistent: true });
    expect(Date.parse(completed.completedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(stallRecord?.updatedAt as string),
    );
    const events = completedEvents(batchId);
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({ status: 'failed', batch: { batchId, total: 6, counts } });
    for (const activationId of [cancelled, cancelledLater, failed, stalled])
      expect(stn.cancellations().filter((cancel) => cancel.activationId === activationId)).toHaveLength(1);
  }, 40_000);

  it('a check delivered twice at once, and again after it was written, moves the item once', async () => {
    const id = settling('CANCELLED', 200);
    const batchId = await previewed([id]);
    const from = followUps.sent.length;
    await routes.call('confirm-batch', `/v1/batches/${batchId}/confirm`);
    // The first check (final: the activation has settled by then), delivered by the queue and by us twice, at once.
    for (let waited = 0; followUps.sent.length === from; waited += 20) {
      if (waited > 10_000) throw new Error('no follow-up sent');
      await sleep(20);
    }
    const { message, dueAtMs } = followUps.sent[from] as { message: FollowUpMessage; dueAtMs: number };
    await sleep(Math.max(dueAtMs - Date.now(), 0));
    const duplicates = await Promise.all([followUps.deliver(message), followUps.deliver(message)]);
    expect(duplicates.map((response) => response.batchItemFailures)).toEqual([[], []]);

    const seen = await watch(batchId);
    for (const batch of seen) expect(sum(batch.counts)).toBe(1);
    expect(seen.at(-1)?.counts).toMatchObject({ succeeded: 1, in_progress: 0, pending: 0 });
    const record = await untilRecord(message.operationId, (found) => found.status === 'succeeded');
    expect(record.timeline?.map((entry) => entry.observed.check)).toEqual([1]);
    const [settled] = await itemsOf(batchId);
    expect(settled?.status).toBe('succeeded');

    // Redelivered later, twice at once: nothing moves again.
    const again = await Promise.all([followUps.deliver(message), followUps.deliver(message)]);
    expect(again.map((response) => response.batchItemFailures)).toEqual([[], []]);
    await sleep(300);
    expect((await getBatch(batchId)).counts).toMatchObject({ succeeded: 1, in_progress: 0, pending: 0 });
    expect((await itemsOf(batchId))[0]).toEqual(settled);
    expect(completedEvents(batchId)).toHaveLength(1);
  });

  it('a check cut short after its write (the settle failed): its redelivery settles the item', async () => {
    const id = settling('CANCELLED', 200);
    const batchId = await previewed([id]);
    // The settle's transaction (item in_progress → final, counts) fails once: the check's write is already done.
    failDynamoDB('TransactWriteItemsCommand', {
      // The counts' move out of in_progress: the settle's transaction.
      matching: '"#from":"in_progress"',
      alsoMatching: batchId,
      table: process.env.BATCHES_TABLE_NAME,
    });
    const from = followUps.sent.length;
    await routes.call('confirm-batch', `/v1/batches/${batchId}/confirm`);
    const seen = await watch(batchId);
    for (const batch of seen) expect(sum(batch.counts)).toBe(1);
    expect(seen.at(-1)?.counts).toMatchObject({ succeeded: 1, in_progress: 0 });
    // The check was written once and its message came back (the queue's redelivery) to settle the item.
    const message = followUps.sent[from]?.message as FollowUpMessage;
    const record = await readOperation(message.operationId, { consistent: true });
    expect(record?.timeline).toHaveLength(1);
    expect(pendingDynamoDBFaults()).toBe(0);
    expect(completedEvents(batchId)).toHaveLength(1);
  });

  it('the follow-up settles the operation before the batch run recorded the item: the item still ends final, once', async () => {
    const id = settling('CANCELLED', 100);
    const batchId = await previewed([id]);
    // This test is the queue of the run messages: it delivers the one message itself.
    await batchItems.stop();
    const sent: string[] = [];
    setBatchItemSink((_operation, message) => void sent.push(JSON.stringify(message)));
    try {
      await routes.call('confirm-batch', `/v1/batches/${batchId}/confirm`);
      expect(sent).toHaveLength(1);
      const deliver = (body: string) =>
        handler(
          { Records: [toSqsRecord(body, 'cancel-activation', { senderId: `${LOCAL_BATCH_SENDER_ID}:batches` })] },
          lambdaContext('cancel-activation', 28_000),
        );
      // The operation answers (in_progress) but its container dies before the item is written (pending → in_progress).
      failDynamoDB('TransactWriteItemsCommand', {
        // The counts' move out of pending: the item's first write.
        matching: '"#from":"pending"',
        alsoMatching: batchId,
        table: process.env.BATCHES_TABLE_NAME,
      });
      const from = followUps.sent.length;
      const first = await deliver(sent[0] as string);
      expect(pendingDynamoDBFaults()).toBe(0);
      // Its message comes back: the record reported failed (SQS redelivers it), or a copy put back for later.
      const back = first.batchItemFailures.length > 0 ? sent[0] : sent[1];
      expect(back).toBeDefined();
      const operationId = (followUps.sent[from]?.message as FollowUpMessage).operationId;
      // Its follow-up comes first: the operation is final while the item is still pending.
      await untilRecord(operationId, (record) => record.status === 'succeeded');
      const [waiting] = await itemsOf(batchId);
      expect(waiting?.status).toBe('pending');
      expect((await getBatch(batchId)).status).toBe('running');

      // The message back: the saved answer is replayed, the item written in_progress, then settled.
      expect((await deliver(back as string)).batchItemFailures).toEqual([]);
      const [settled] = await itemsOf(batchId);
      expect(settled).toMatchObject({ status: 'succeeded', operationId, problem: null });
      const batch = await getBatch(batchId);
      expect(batch.status).toBe('completed');
      expect(batch.counts).toMatchObject({ succeeded: 1, in_progress: 0, pending: 0 });
      expect(sum(batch.counts)).toBe(1);
      // Once more, as a duplicate: nothing moves.
      expect((await deliver(back as string)).batchItemFailures).toEqual([]);
      expect((await itemsOf(batchId))[0]).toEqual(settled);
      expect(completedEvents(batchId)).toHaveLength(1);
      expect(stn.cancellations().filter((cancel) => cancel.activationId === id)).toHaveLength(1);
    } finally {
      setBatchItemSink(undefined);
      batchItems = installLocalBatchItems(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 200 });
    }
  });

  it('an item whose follow-ups stopped (never sent) still ends: its watch fails it as stalled past the deadline', async () => {
    const id = settling('CANCELLED', 60_000);
    const batchId = await previewed([id]);
    // The operation's follow-up cannot be sent (the queue is gone): nothing would ever settle the item.
    await followUps.stop();
    try {
      await routes.call('confirm-batch', `/v1/batches/${batchId}/confirm`);
      const seen = await watch(batchId, 25_000);
      expect(seen.some((batch) => batch.counts.in_progress === 1)).toBe(true);
      expect(seen.at(-1)?.counts).toMatchObject({ failed: 1, in_progress: 0, pending: 0 });
      const [item] = await itemsOf(batchId);
      expect(item?.problem).toMatchObject({ type: 'stalled', status: 504 });
      expect(completedEvents(batchId)).toHaveLength(1);
    } finally {
      followUps = installLocalFollowUps(new Map([['cancel-activation', handler as never]]), { retryAfterMs: 300 });
    }
  }, 40_000);
});
