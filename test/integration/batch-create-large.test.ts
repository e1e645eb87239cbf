/**
 * The largest creates and the ones cut short: create-batch in-process, the batches table on DynamoDB Local, and the
 * items' messages over HTTP to the AWS stand-in (testkit/aws-recorder.ts) through BATCH_QUEUE_URLS, as deployed. A
 * create of MAX_ITEMS stores every item and sends each valid one's message once; one item more is refused before
 * anything is written. A create that SQS or DynamoDB fails part way is finished by the same create again: every item
 * stored, every valid item's message sent, and none the batch recorded as sent is sent again.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CALLER_ARN } from '../../infra/local/apigw-event.js';
import { MAX_ITEMS, batchIdOf } from '../../shared/batches/model.js';
import { readMeta } from '../../shared/batches/store.js';
import { documentClient } from '../../shared/dynamodb.js';
import { scopedIdentity } from '../../shared/http/request.js';
import { type AwsRecorder, startAwsRecorder } from '../../testkit/aws-recorder.js';
import { type BatchBody, batchRouteCaller } from '../../testkit/batch-routes.js';
import { configureEnvironment, newTable } from '../../testkit/harness.js';

let recorder: AwsRecorder;
let routes: Awaited<ReturnType<typeof batchRouteCaller>>;
let serial = 0;
const queueUrl = (operation: string) => `${recorder.endpoint}/123456789012/sim-cancel-gateway-${operation}`;

beforeAll(async () => {
  const dynamoEndpoint = inject('dynamoEndpoint');
  recorder = await startAwsRecorder({ dynamoEndpoint, secrets: {} });
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(dynamoEndpoint),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    BATCH_QUEUE_URLS: JSON.stringify({ 'cancel-activation': queueUrl('cancel-activation') }),
  });
  routes = await batchRouteCaller();
});
afterEach(() => recorder.failSendMessageBatch(undefined));
afterAll(() => recorder.stop());

/** `count` sTN activations, every 97th with a space in its id (invalid), each with a note at its 164-unit limit. */
const activations = (count: number) => {
  const run = (serial += 1);
  return Array.from({ length: count }, (_, index) => ({
    activationId: index % 97 === 96 ? `bad id ${index}` : `r${run}a${String(index).padStart(6, '0')}`,
    note: `Reseller ${run} closed; row ${index}. `.padEnd(164, 'x'),
  }));
};
const invalidAt = (index: number) => index % 97 === 96;

/** POST /v1/batches as create-batch's function, its SQS calls answered (and recorded) by the stand-in. */
const create = (key: string, body: string | object, headers: Record<string, string> = {}) =>
  recorder.during('create-batch', () =>
    routes.call('create-batch', typeof body === 'string' ? '/v1/batches?operation=cancel-activation' : '/v1/batches', {
      body,
      headers: { 'Idempotency-Key': key, ...headers },
    }),
  );
const batchOf = (key: string) => batchIdOf(scopedIdentity(LOCAL_CALLER_ARN), key);
/** How many times each item's message reached the queue. */
const sentCounts = (batchId: string): Map<number, number> => {
  const counts = new Map<number, number>();
  for (const { queueUrl: url, body } of recorder.sent) {
    const { batchItem } = JSON.parse(body) as { batchItem: { batchId: string; index: number; phase: string } };
    if (batchItem.batchId !== batchId) continue;
    expect(url).toBe(queueUrl('cancel-activation'));
    expect(batchItem.phase).toBe('preview');
    counts.set(batchItem.index, (counts.get(batchItem.index) ?? 0) + 1);
  }
  return counts;
};
/** Every stored item, through the items route, 1,000 a page. */
const storedItems = async (batchId: string) => {
  const items: Array<{ index: number; status: string; input: Record<string, unknown> }> = [];
  let cursor: string | null = null;
  do {
    const page = await routes.call(
      'batch-items',
      `/v1/batches/${batchId}/items?limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    expect(page.status).toBe(200);
    const body = page.body as BatchBody & { items: typeof items; nextCursor: string | null };
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return items;
};
const expectEveryItemStored = async (batchId: string, rows: ReturnType<typeof activations>) => {
  const items = await storedItems(batchId);
  expect(items.map((item) => item.index)).toEqual(rows.map((_, index) => index));
  for (const item of items) {
    expect(item.status).toBe(invalidAt(item.index) ? 'invalid' : 'pending');
    if (!invalidAt(item.index)) expect(item.input.activationId).toBe(rows[item.index]?.activationId);
  }
};
const valid = (rows: readonly unknown[]) => rows.flatMap((_, index) => (invalidAt(index) ? [] : [index]));

describe('the largest create', () => {
  it(`stores all ${MAX_ITEMS} items of a CSV and sends each valid one's message exactly once`, async () => {
    const rows = activations(MAX_ITEMS);
    const csv = ['activationId,note', ...rows.map((row) => `${row.activationId},${row.note}`)].join('\n');
    const key = `large-${serial}`;
    const created = await create(key, csv, { 'content-type': 'text/csv' });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const body = created.body as BatchBody;
    const invalid = rows.length - valid(rows).length;
    expect(body).toMatchObject({
      batchId: batchOf(key),
      status: 'previewing',
      total: MAX_ITEMS,
      counts: { pending: MAX_ITEMS - invalid, invalid },
    });
    expect(await readMeta(body.batchId)).toMatchObject({ runnable: MAX_ITEMS - invalid, previewEnqueued: MAX_ITEMS });
    const sent = sentCounts(body.batchId);
    expect(sent.size).toBe(MAX_ITEMS - invalid);
    expect([...sent.keys()].sort((a, b) => a - b)).toEqual(valid(rows));
    expect([...sent.values()].every((times) => times === 1)).toBe(true);
    await expectEveryItemStored(body.batchId, rows);
  }, 60_000);

  it(`refuses ${MAX_ITEMS + 1} items naming the field, before writing or sending anything`, async () => {
    const key = `too-many-${(serial += 1)}`;
    const before = recorder.sent.length;
    const refused = await create(key, { operation: 'cancel-activation', items: activations(MAX_ITEMS + 1) });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      type: expect.stringContaining('invalid-request'),
      errors: [{ path: 'items', message: `must hold 1 to ${MAX_ITEMS} items (got ${MAX_ITEMS + 1})` }],
    });
    expect(await readMeta(batchOf(key))).toBeUndefined();
    expect(recorder.sent.length).toBe(before);
  });
});

describe('a create cut short, created again with the same key', () => {
  it('SQS fails part way: the batch records only what went out, and the create again sends the rest', async () => {
    const rows = activations(3_000);
    const key = `sqs-cut-${serial}`;
    const batchId = batchOf(key);
    // Three pages of 1,000 items: a few SendMessageBatch calls of the second fail, with others in flight around them.
    recorder.failSendMessageBatch((call) => call >= 140 && call <= 142);
    const failed = await create(key, { operation: 'cancel-activation', items: rows });
    expect(failed.status).toBe(500);
    const cut = (await readMeta(batchId))?.previewEnqueued ?? -1;
    const first = sentCounts(batchId);
    // The first page was recorded; the third never started; nothing recorded went unsent.
    expect(cut).toBeGreaterThan(1_000);
    expect(cut).toBeLessThan(2_000);
    expect(valid(rows).filter((index) => index < cut && first.get(index) !== 1)).toEqual([]);
    expect([...first.keys()].some((index) => index >= 2_000)).toBe(false);

    recorder.failSendMessageBatch(undefined);
    const again = await create(key, { operation: 'cancel-activation', items: rows });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await readMeta(batchId)).toMatchObject({ previewEnqueued: 3_000 });
    const sent = sentCounts(batchId);
    expect([...sent.keys()].sort((a, b) => a - b)).toEqual(valid(rows));
    // What the batch recorded as sent went once; after it, some may have gone twice (in flight when SQS failed).
    expect(valid(rows).filter((index) => index < cut && sent.get(index) !== 1)).toEqual([]);
    expect(Math.max(...sent.values())).toBeLessThanOrEqual(2);
    await expectEveryItemStored(batchId, rows);
  }, 60_000);

  it('DynamoDB fails part way through the items: the create again writes the missing ones, then sends each once', async () => {
    const rows = activations(2_000);
    const key = `dynamo-cut-${serial}`;
    const batchId = batchOf(key);
    // The 20th BatchWriteItem call fails (with others in flight): items are missing in the middle and at the end.
    const send = documentClient.send.bind(documentClient) as (command: unknown) => Promise<unknown>;
    let writes = 0;
    (documentClient as { send: unknown }).send = async (command: unknown) => {
      if (command instanceof BatchWriteCommand && (writes += 1) === 20)
        throw Object.assign(new Error('the container died'), { name: 'InternalServerError' });
      return send(command);
    };
    let failed;
    try {
      failed = await create(key, { operation: 'cancel-activation', items: rows });
    } finally {
      (documentClient as { send: unknown }).send = send;
    }
    expect(failed.status).toBe(500);
    expect(await readMeta(batchId)).toMatchObject({ status: 'previewing', previewEnqueued: 0 });
    expect((await storedItems(batchId)).length).toBeLessThan(rows.length);
    // No message goes out before every item is written.
    expect(sentCounts(batchId).size).toBe(0);

    const again = await create(key, { operation: 'cancel-activation', items: rows });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    await expectEveryItemStored(batchId, rows);
    const sent = sentCounts(batchId);
    expect([...sent.keys()].sort((a, b) => a - b)).toEqual(valid(rows));
    expect([...sent.values()].every((times) => times === 1)).toBe(true);
  }, 60_000);

  it('DynamoDB leaves items unprocessed or throttles a call: those go again, every item stored', async () => {
    const rows = activations(1_000);
    const key = `unprocessed-${serial}`;
    const send = documentClient.send.bind(documentClient) as (command: unknown) => Promise<unknown>;
    let writes = 0;
    (documentClient as { send: unknown }).send = async (command: unknown) => {
      if (!(command instanceof BatchWriteCommand)) return send(command);
      writes += 1;
      if (writes % 7 === 0)
        throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      // Every third call writes only its first ten items and hands the rest back, as a busy partition does.
      if (writes % 3 !== 0) return send(command);
      const [table, requests] = Object.entries(command.input.RequestItems ?? {})[0] ?? ['', []];
      if (requests.length <= 10) return send(command);
      await send(new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, 10) } }));
      return { UnprocessedItems: { [table]: requests.slice(10) } };
    };
    let created;
    try {
      created = await create(key, { operation: 'cancel-activation', items: rows });
    } finally {
      (documentClient as { send: unknown }).send = send;
    }
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(writes).toBeGreaterThan(40);
    await expectEveryItemStored(batchOf(key), rows);
    expect(sentCounts(batchOf(key)).size).toBe(valid(rows).length);
  });
});
