/**
 * A batch of eSIM Go revokes, the way it breaks: a mixed batch (valid, refused by the returns-process guard, invalid,
 * rejected by eSIM Go), a 429 that slows an item down without failing it, a cancel while it runs, and a container that
 * dies mid-item (its message comes back, as SQS redelivers it): exactly one revoke per succeeded item, none twice.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installLocalBatchItems, type LocalBatchItems } from '../../infra/local/batch-items.js';
import { MAX_RECEIVE_COUNT } from '../../shared/sqs.js';
import type { BatchItemMessage } from '../../shared/batches/messages.js';
import { MAX_PUT_BACKS } from '../../shared/batches/put-back.js';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { toSqsRecord } from '../../infra/local/events.js';
import { randomUUID } from 'node:crypto';
import { createOperationHandler } from '../../shared/handler.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { LOCAL_BATCH_SENDER_ID } from '../../shared/queue/consumer.js';
import { type EsimGoSimulator, assignment } from '../../sandbox/esim-go/simulator.js';
import { type BatchBody, batchRouteCaller } from '../../testkit/batch-routes.js';
import { type Handler, loadOperation, startEsimGo } from '../../testkit/harness.js';

let esimGo: EsimGoSimulator;
let revokeHandler: Handler;
let revokeDefinition: OperationDefinition;
let batchItems: LocalBatchItems;
let routes: Awaited<ReturnType<typeof batchRouteCaller>>;
let serial = 0;

beforeAll(async () => {
  esimGo = await startEsimGo({ seed: false, requestsPerSecond: 1000 });
  ({ handler: revokeHandler, definition: revokeDefinition } = await loadOperation(
    inject('dynamoEndpoint'),
    'revoke-bundle',
    'revokeBundle',
    {
      UPSTREAM_TIMEOUT_MS: '1000',
      RECONCILE_AFTER_MS: '300',
      ESIM_GO_REQUESTS_PER_SECOND: '1000',
    },
  ));
  routes = await batchRouteCaller();
  batchItems = installLocalBatchItems(new Map([['revoke-bundle', revokeHandler as never]]), {
    concurrency: 2,
    retryAfterMs: 300,
  });
});
afterAll(async () => {
  await batchItems.stop();
  await esimGo.server.stop();
});

const call = (name: string, path: string, body?: unknown) =>
  routes
    .call(name, path, {
      body,
      headers: body === undefined ? {} : { 'Idempotency-Key': `batch-${(serial += 1)}-${Date.now()}` },
    })
    .then((answer) => ({ status: answer.status, body: answer.body as BatchBody }));
const until = (batchId: string, statuses: string[], timeoutMs?: number) => routes.until(batchId, statuses, timeoutMs);
/** An eSIM with `bundles` unused assignments of b1; installed unless said otherwise. */
const esim = (options: { installed?: boolean; bundles?: number } = {}) => {
  const iccid = withLuhnCheckDigit(
    `8944${String(Date.now() % 1e8).padStart(8, '0')}${String((serial += 1)).padStart(6, '0')}`,
  );
  esimGo.addEsim({
    iccid,
    profileStatus: options.installed === false ? 'Released' : 'Installed',
    inAccount: true,
    bundles: [
      {
        name: 'b1',
        description: 'batch',
        assignments: Array.from({ length: options.bundles ?? 2 }, (_, index) =>
          assignment(String(index + 1), 'queued', 1),
        ),
      },
    ],
  });
  return iccid;
};
const revocationsOf = (iccid: string) => esimGo.revocations().filter((revocation) => revocation.iccid === iccid);
const statuses = async (batchId: string) =>
  ((await call('batch-items', `/v1/batches/${batchId}/items?limit=1000`)).body.items ?? []).map((item) => item.status);

describe('a batch of eSIM Go revokes', () => {
  it('previews and runs a mixed batch: one revoke per succeeded item, the guard-refused and invalid never sent', async () => {
    const valid = [esim(), esim()];
    const guarded = esim({ installed: false, bundles: 1 });
    const unknown = withLuhnCheckDigit('894400000000000001');
    const items = [
      ...valid.map((iccid) => ({ iccid, name: 'b1' })),
      { iccid: guarded, name: 'b1' },
      { iccid: '1234', name: 'b1' },
      { iccid: unknown, name: 'b1' },
    ];
    const created = await call('create-batch', '/v1/batches', { operation: 'revoke-bundle', items });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const previewed = await until(created.body.batchId, ['previewed']);
    expect(previewed.preview).toMatchObject({
      summary: { wouldSucceed: 2, wouldBeRefusedByGuard: 1, wouldBeRefunded: 2, invalid: 1 },
    });
    expect(esimGo.revocations()).toHaveLength(0);
    expect((await call('confirm-batch', `/v1/batches/${created.body.batchId}/confirm`)).status).toBe(202);
    const completed = await until(created.body.batchId, ['completed']);
    expect(completed.counts).toMatchObject({ pending: 0, succeeded: 2, rejected: 2, invalid: 1 });
    expect(await statuses(created.body.batchId)).toEqual(['succeeded', 'succeeded', 'rejected', 'invalid', 'rejected']);
    for (const iccid of valid) expect(revocationsOf(iccid)).toHaveLength(1);
    expect(revocationsOf(guarded)).toHaveLength(0);
  });

  /** A confirmed batch of `count` revokes whose first item's revoke eSIM Go throttles `times` times; its end. */
  const runThrottled = async (count: number, times: number) => {
    const iccids = Array.from({ length: count }, () => esim());
    const created = await call('create-batch', '/v1/batches', {
      operation: 'revoke-bundle',
      items: iccids.map((iccid) => ({ iccid, name: 'b1' })),
    });
    await until(created.body.batchId, ['previewed']);
    esimGo.server.injectFault({
      kind: 'status',
      status: 429,
      retryAfterSeconds: 1,
      method: 'DELETE',
      path: `/esims/${iccids[0]}/bundles/b1`,
      times,
    });
    await call('confirm-batch', `/v1/batches/${created.body.batchId}/confirm`);
    const completed = await until(created.body.batchId, ['completed'], 60_000);
    for (const iccid of iccids) expect(revocationsOf(iccid)).toHaveLength(1);
    return completed;
  };

  it('a 429 slows an item down: it comes back and succeeds, no item fails', async () => {
    const completed = await runThrottled(3, 1);
    expect(completed.counts).toMatchObject({ succeeded: 3, failed: 0 });
  });

  it('an item throttled more often than a message may be received still succeeds: put back, never dead-lettered', async () => {
    // More 429s than the queue's redrive policy allows receives: a redelivered record would end in the DLQ.
    const completed = await runThrottled(2, MAX_RECEIVE_COUNT + 2);
    expect(completed.counts).toMatchObject({ succeeded: 2, failed: 0, pending: 0 });
    expect(batchItems.deadLetters).toEqual([]);
  }, 90_000);

  it('a cancel while it runs stops the items not yet started: they end cancelled and are never sent', async () => {
    const iccids = Array.from({ length: 8 }, () => esim());
    const created = await call('create-batch', '/v1/batches', {
      operation: 'revoke-bundle',
      items: iccids.map((iccid) => ({ iccid, name: 'b1' })),
    });
    await until(created.body.batchId, ['previewed']);
    // Each revoke takes a while, so the cancel lands with items still waiting in the queue.
    for (const iccid of iccids)
      esimGo.server.injectFault({
        kind: 'delay',
        latencyMs: 300,
        method: 'DELETE',
        path: `/esims/${iccid}/bundles/b1`,
      });
    await call('confirm-batch', `/v1/batches/${created.body.batchId}/confirm`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await call('cancel-batch', `/v1/batches/${created.body.batchId}/cancel`)).status).toBe(200);
    await batchItems.drained();
    const cancelled = await call('get-batch', `/v1/batches/${created.body.batchId}`);
    expect(cancelled.body.status).toBe('cancelled');
    const counts = cancelled.body.counts;
    expect(counts.cancelled).toBeGreaterThan(0);
    expect((counts.succeeded ?? 0) + (counts.cancelled ?? 0)).toBe(8);
    const done = (await statuses(created.body.batchId)).map(
      (status, index) => [status, iccids[index] as string] as const,
    );
    for (const [status, iccid] of done)
      expect(revocationsOf(iccid), status).toHaveLength(status === 'succeeded' ? 1 : 0);
  });

  /** A previewed, confirmed one-item batch whose run messages this test delivers itself (they are kept in `sent`). */
  const confirmedByHand = async () => {
    const iccid = esim();
    const created = await call('create-batch', '/v1/batches', {
      operation: 'revoke-bundle',
      items: [{ iccid, name: 'b1' }],
    });
    const batchId = created.body.batchId;
    await until(batchId, ['previewed']);
    await batchItems.stop();
    const sent: BatchItemMessage[] = [];
    const { setBatchItemSink } = await import('../../shared/batches/messages.js');
    setBatchItemSink((_operation, message) => void sent.push(message));
    await call('confirm-batch', `/v1/batches/${batchId}/confirm`);
    const deliver = (message: BatchItemMessage, budgetMs = 28_000) =>
      (revokeHandler as unknown as (event: unknown, context: unknown) => Promise<SQSBatchResponse>)(
        {
          Records: [
            toSqsRecord(JSON.stringify(message), 'revoke-bundle', { senderId: `${LOCAL_BATCH_SENDER_ID}:batches` }),
          ],
        },
        lambdaContext('revoke-bundle', budgetMs),
      );
    const restore = () => {
      batchItems = installLocalBatchItems(new Map([['revoke-bundle', revokeHandler as never]]), {
        concurrency: 2,
        retryAfterMs: 300,
      });
    };
    return { iccid, batchId, sent, deliver, restore };
  };

  it('a container that dies mid-item: the message comes back and the item is revoked once', async () => {
    const { iccid, batchId, sent, deliver, restore } = await confirmedByHand();
    try {
      expect(sent).toHaveLength(1);
      // The revoke is applied but its answer never comes: the invocation runs out of time, as a dying container would.
      esimGo.server.injectFault({ kind: 'apply-then-hang', method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
      const first = await deliver(sent[0] as BatchItemMessage, 1500).catch(() => ({
        batchItemFailures: [{ itemIdentifier: 'died' }],
      }));
      expect(revocationsOf(iccid)).toHaveLength(1);
      // The item comes back: SQS redelivers the record (a container killed outright), or the handler, seeing its
      // deadline, put the item back for later (a new message) and let the record go. Either way it is not lost.
      const again = first.batchItemFailures.length === 1 ? sent[0] : sent[1];
      expect(first.batchItemFailures.length + sent.length - 1, 'exactly one way back').toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 400));
      // The retry reconciles with eSIM Go instead of revoking again.
      expect((await deliver(again as BatchItemMessage)).batchItemFailures).toEqual([]);
      expect(revocationsOf(iccid)).toHaveLength(1);
      expect(await statuses(batchId)).toEqual(['succeeded']);
      expect((await call('get-batch', `/v1/batches/${batchId}`)).body.status).toBe('completed');
    } finally {
      restore();
    }
  });

  it.each([
    {
      label: 'sent and its answer lost: it runs on and is reconciled, never left cancelled',
      fault: { kind: 'apply-then-hang' as const },
      ends: 'succeeded',
      revocations: 1,
    },
    {
      label: 'throttled (nothing reached eSIM Go): it ends cancelled and is never sent',
      fault: { kind: 'status' as const, status: 429, retryAfterSeconds: 1 },
      ends: 'cancelled',
      revocations: 0,
    },
  ])('a cancel after an item was $label', async ({ fault, ends, revocations }) => {
    const { iccid, batchId, sent, deliver, restore } = await confirmedByHand();
    try {
      esimGo.server.injectFault({ ...fault, method: 'DELETE', path: `/esims/${iccid}/bundles/b1` });
      await deliver(sent[0] as BatchItemMessage, 1500);
      // Put back for later, then the batch is cancelled before it comes back.
      const back = sent[1] as BatchItemMessage;
      expect(back.batchItem.attempt).toBe(1);
      expect((await call('cancel-batch', `/v1/batches/${batchId}/cancel`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await deliver(back)).batchItemFailures).toEqual([]);
      expect(await statuses(batchId)).toEqual([ends]);
      expect(revocationsOf(iccid)).toHaveLength(revocations);
    } finally {
      restore();
    }
  });

  it('an item given up after too many put-backs takes the answer a copy of its message gets after all', async () => {
    const { iccid, batchId, sent, deliver, restore } = await confirmedByHand();
    try {
      // One copy of the item's message runs, its revoke slow; another copy, put back too often already, comes
      // meanwhile, finds the key in flight and gives up.
      esimGo.server.injectFault({
        kind: 'delay',
        latencyMs: 400,
        method: 'DELETE',
        path: `/esims/${iccid}/bundles/b1`,
      });
      const message = sent[0] as BatchItemMessage;
      const running = deliver(message);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(
        (await deliver({ batchItem: { ...message.batchItem, attempt: MAX_PUT_BACKS } })).batchItemFailures,
      ).toEqual([]);
      expect(await statuses(batchId)).toEqual(['failed']);
      // The running copy revokes: its answer replaces the give-up, and the counts move with it.
      expect((await running).batchItemFailures).toEqual([]);
      expect(await statuses(batchId)).toEqual(['succeeded']);
      expect((await call('get-batch', `/v1/batches/${batchId}`)).body.counts).toMatchObject({
        succeeded: 1,
        failed: 0,
      });
      expect(revocationsOf(iccid)).toHaveLength(1);
    } finally {
      restore();
    }
  });

  /** A released eSIM with two bundles of one assignment each: revoking both would hand it back to eSIM Go. */
  const lastTwoBundles = () => {
    const iccid = esim({ installed: false, bundles: 1 });
    const found = esimGo.esim(iccid);
    found?.bundles.push({ name: 'b2', description: 'batch', assignments: [assignment('1', 'queued', 1)] });
    return iccid;
  };
  /** A batch revoking both bundles of the eSIM, run by `handler` two items at a time. */
  const revokeBoth = async (iccid: string, handler: unknown) => {
    const created = await call('create-batch', '/v1/batches', {
      operation: 'revoke-bundle',
      items: [
        { iccid, name: 'b1', allowEsimReturn: 'false' },
        { iccid, name: 'b2', allowEsimReturn: 'false' },
      ],
    });
    await until(created.body.batchId, ['previewed']);
    await batchItems.stop();
    batchItems = installLocalBatchItems(new Map([['revoke-bundle', handler as never]]), {
      concurrency: 2,
      retryAfterMs: 300,
    });
    await call('confirm-batch', `/v1/batches/${created.body.batchId}/confirm`);
    return until(created.body.batchId, ['completed']);
  };

  it('two items of one batch on one eSIM run one at a time: one revokes, the guard refuses the other, the eSIM stays', async () => {
    const iccid = lastTwoBundles();
    // Both items' reads are in flight together unless the lease keeps them apart.
    esimGo.server.injectFault({
      kind: 'stale-answer',
      method: 'GET',
      path: `/esims/${iccid}/bundles`,
      latencyMs: 400,
      times: 2,
    });
    const completed = await revokeBoth(iccid, revokeHandler);
    expect(completed.counts).toMatchObject({ succeeded: 1, rejected: 1, pending: 0 });
    expect(revocationsOf(iccid)).toHaveLength(1);
    expect(esimGo.esim(iccid)?.inAccount).toBe(true);
  });

  it('the same batch with the target lease switched off revokes both and hands the eSIM back (what the lease prevents)', async () => {
    const iccid = lastTwoBundles();
    esimGo.server.injectFault({
      kind: 'stale-answer',
      method: 'GET',
      path: `/esims/${iccid}/bundles`,
      latencyMs: 400,
      times: 2,
    });
    const unleased = createOperationHandler({ ...revokeDefinition, lease: () => randomUUID() } as OperationDefinition);
    const completed = await revokeBoth(iccid, unleased);
    expect(completed.counts).toMatchObject({ succeeded: 2, pending: 0 });
    expect(revocationsOf(iccid)).toHaveLength(2);
    expect(esimGo.esim(iccid)?.inAccount).toBe(false);
  });
});
