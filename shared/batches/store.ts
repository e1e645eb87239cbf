/**
 * The batches table: a batch's meta item and its items. Every change of an item's status is conditional on its status
 * before, and moves the meta item's counts in the same transaction, so a redelivered item message counts once.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { config } from '../config.js';
import { documentClient } from '../dynamodb.js';
import type { BatchItem, BatchMeta, BatchStatus, ItemPreview, ItemStatus } from './model.js';
import { createMayBeRunning, itemKey } from './model.js';
import { eachInFlight } from './in-flight.js';

const table = () => config().BATCHES_TABLE_NAME;

const conditionFailed = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed'));

type TransactUpdate = NonNullable<NonNullable<TransactWriteCommand['input']['TransactItems']>[number]['Update']>;

/**
 * The item's conditional update and the batch's counts together. dynalite (`npm start`) has no transactions: there the
 * conditional update goes first and alone decides, so a redelivery still counts once (a crash between the two would
 * leave a count behind, locally only).
 */
const transact = async (updates: TransactUpdate[]): Promise<void> => {
  try {
    await documentClient.send(new TransactWriteCommand({ TransactItems: updates.map((Update) => ({ Update })) }));
  } catch (error) {
    if ((error as Error).name !== 'UnknownOperationException') throw error;
    for (const update of updates) await documentClient.send(new UpdateCommand(update));
  }
};

/** BatchWriteItem calls (25 items each) in flight at once while a batch's items are written. */
const ITEM_WRITES_IN_FLIGHT = 8;
const UNPROCESSED_ROUNDS = 10;
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/** An UpdateItem that sets every attribute of a record but its key. */
const setEvery = (record: object) => {
  const fields = Object.entries(record).filter(([name]) => name !== 'batchId' && name !== 'sk');
  return {
    UpdateExpression: `SET ${fields.map((_, index) => `#f${index} = :f${index}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(fields.map(([name], index) => [`#f${index}`, name])),
    ExpressionAttributeValues: Object.fromEntries(fields.map(([, value], index) => [`:f${index}`, value])),
  };
};

/**
 * A create again (the same key and items) while the batch is new: the items an earlier create did not get to write
 * (it failed or was cut short before sending any message) are written now, each only if it is still absent, so an item
 * a concurrent create wrote (and its preview may have moved since) is never overwritten. Once a message went out
 * (previewEnqueued > 0) every item was there: a create sends only after all its items are written.
 */
const writeMissingItems = async (meta: BatchMeta, items: readonly BatchItem[]): Promise<void> => {
  const stored = await readMeta(meta.batchId);
  if (stored?.payloadHash !== meta.payloadHash || stored.status !== 'previewing' || stored.previewEnqueued > 0) return;
  // The first create may still be writing: its unconditional puts would overwrite what this one wrote and previewed.
  if (createMayBeRunning(stored)) return;
  const present = new Set<number>();
  let after: string | undefined;
  do {
    const page = await readItems(meta.batchId, { after, limit: 1000 });
    for (const item of page.items) present.add(item.index);
    after = page.last ?? undefined;
  } while (after !== undefined);
  const missing = items.filter((item) => !present.has(item.index));
  await eachInFlight(missing, ITEM_WRITES_IN_FLIGHT * 2, async (item) => {
    try {
      await documentClient.send(
        new UpdateCommand({
          TableName: table(),
          Key: { batchId: item.batchId, sk: item.sk },
          ...setEvery(item),
          ConditionExpression: 'attribute_not_exists(batchId)',
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
    }
  });
};

/**
 * Writes a new batch (meta first, conditional on the id being new) and its items, ITEM_WRITES_IN_FLIGHT BatchWriteItem
 * calls at a time; false if it existed (then the items a cut-short create left out are written).
 */
export const createBatch = async (meta: BatchMeta, items: BatchItem[]): Promise<boolean> => {
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: table(),
        Key: { batchId: meta.batchId, sk: 'meta' },
        ...setEvery(meta),
        ConditionExpression: 'attribute_not_exists(batchId)',
      }),
    );
  } catch (error) {
    if (!conditionFailed(error)) throw error;
    await writeMissingItems(meta, items);
    return false;
  }
  const chunks = Array.from({ length: Math.ceil(items.length / 25) }, (_, index) =>
    items.slice(index * 25, index * 25 + 25),
  );
  await eachInFlight(chunks, ITEM_WRITES_IN_FLIGHT, async (chunk) => {
    let pending = chunk.map((item) => ({ PutRequest: { Item: item } }));
    // A batch's items share a partition key, whose partition takes about 1,000 writes a second: BatchWrite leaves some
    // unprocessed (or, when it takes none, is throttled past the SDK's own retries). Those go again after a backoff.
    for (let round = 0; pending.length > 0 && round < UNPROCESSED_ROUNDS; round += 1) {
      if (round > 0)
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(1000, 50 * 2 ** (round - 1)) * (0.5 + Math.random() / 2)),
        );
      try {
        const result = await documentClient.send(new BatchWriteCommand({ RequestItems: { [table()]: pending } }));
        pending = (result.UnprocessedItems?.[table()] ?? []) as typeof pending;
      } catch (error) {
        if (!THROTTLED.has((error as Error).name) || round === UNPROCESSED_ROUNDS - 1) throw error;
      }
    }
    if (pending.length > 0) throw new Error('DynamoDB did not take every batch item');
  });
  return true;
};

export const readMeta = async (batchId: string): Promise<BatchMeta | undefined> =>
  (
    await documentClient.send(
      new GetCommand({ TableName: table(), Key: { batchId, sk: 'meta' }, ConsistentRead: true }),
    )
  ).Item as BatchMeta | undefined;

export const readItem = async (batchId: string, index: number): Promise<BatchItem | undefined> =>
  (
    await documentClient.send(
      new GetCommand({ TableName: table(), Key: { batchId, sk: itemKey(index) }, ConsistentRead: true }),
    )
  ).Item as BatchItem | undefined;

/** One page of a batch's items in order, from `after` (an item key). */
export const readItems = async (
  batchId: string,
  options: { after?: string; limit: number },
): Promise<{ items: BatchItem[]; last: string | null }> => {
  const result = await documentClient.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'batchId = :batchId AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':batchId': batchId, ':prefix': 'item#' },
      ExclusiveStartKey: options.after === undefined ? undefined : { batchId, sk: options.after },
      Limit: options.limit,
    }),
  );
  const items = (result.Items ?? []) as BatchItem[];
  return { items, last: result.LastEvaluatedKey === undefined ? null : String(result.LastEvaluatedKey.sk) };
};

/** Moves the batch from one status to another; false if it was not in `from` any more. */
export const moveBatch = async (
  batchId: string,
  from: readonly BatchStatus[],
  to: BatchStatus,
  stamp?: 'previewedAt' | 'confirmedAt' | 'completedAt',
): Promise<boolean> => {
  const now = new Date().toISOString();
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: table(),
        Key: { batchId, sk: 'meta' },
        UpdateExpression: `SET #status = :to, updatedAt = :now${stamp === undefined ? '' : `, ${stamp} = :now`}`,
        ConditionExpression: `#status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': to,
          ':now': now,
          ...Object.fromEntries(from.map((status, index) => [`:from${index}`, status])),
        },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
};

/** Records how many items' messages went out, so an interrupted create or confirm continues where it stopped. */
export const recordEnqueued = (batchId: string, phase: 'previewEnqueued' | 'runEnqueued', upTo: number) =>
  documentClient
    .send(
      new UpdateCommand({
        TableName: table(),
        Key: { batchId, sk: 'meta' },
        UpdateExpression: `SET ${phase} = :upTo`,
        ConditionExpression: `${phase} < :upTo`,
        ExpressionAttributeValues: { ':upTo': upTo },
      }),
    )
    .catch((error: unknown) => {
      if (!conditionFailed(error)) throw error;
    });

/** Stores an item's preview once and counts it in the summary. False if it was previewed already. */
export const recordPreview = async (batchId: string, index: number, preview: ItemPreview): Promise<boolean> => {
  const summaryField = {
    'would-succeed': 'wouldSucceed',
    'guard-refused': 'wouldBeRefusedByGuard',
    'would-be-rejected': 'wouldBeRejected',
    unreadable: 'unreadable',
  }[preview.outcome];
  const counted = [summaryField];
  if (preview.refund) counted.push('wouldBeRefunded');
  try {
    await transact([
      {
        TableName: table(),
        Key: { batchId, sk: itemKey(index) },
        UpdateExpression: 'SET preview = :preview, updatedAt = :now',
        ConditionExpression: 'attribute_not_exists(preview)',
        ExpressionAttributeValues: { ':preview': preview, ':now': new Date().toISOString() },
      },
      {
        TableName: table(),
        Key: { batchId, sk: 'meta' },
        UpdateExpression: `ADD previewed :one${counted.map((field) => `, summary.${field} :one`).join('')}`,
        ExpressionAttributeValues: { ':one': 1 },
      },
    ]);
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
};

/**
 * One item's move from status `from` to `to` with its new fields, conditional on its status (and `also`), and the
 * batch's counts with it, in one transaction. False if the item was not there to move.
 */
const moveItem = async (
  batchId: string,
  index: number,
  move: { from: ItemStatus; to: ItemStatus; fields: Record<string, unknown>; also?: Record<string, unknown> },
): Promise<boolean> => {
  const now = new Date().toISOString();
  const fields = Object.keys(move.fields);
  const also = Object.keys(move.also ?? {});
  try {
    await transact([
      {
        TableName: table(),
        Key: { batchId, sk: itemKey(index) },
        UpdateExpression: `SET #status = :to, updatedAt = :now${fields.map((name) => `, #${name} = :${name}`).join('')}`,
        ConditionExpression: ['#status = :from', ...also.map((name) => `#${name} = :${name}`)].join(' AND '),
        ExpressionAttributeNames: Object.fromEntries(['status', ...fields, ...also].map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: {
          ':to': move.to,
          ':from': move.from,
          ':now': now,
          ...Object.fromEntries(
            Object.entries({ ...move.fields, ...move.also }).map(([name, value]) => [`:${name}`, value ?? null]),
          ),
        },
      },
      {
        TableName: table(),
        Key: { batchId, sk: 'meta' },
        UpdateExpression: 'ADD counts.#from :minus, counts.#to :one SET updatedAt = :now',
        ExpressionAttributeNames: { '#from': move.from, '#to': move.to },
        ExpressionAttributeValues: { ':minus': -1, ':one': 1, ':now': now },
      },
    ]);
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
};

/**
 * Moves an item from pending to the status its run gave it (once) and the batch's counts with it: final, or
 * `in_progress` until its operation's follow-up settles it (settleItem).
 */
export const finishItem = (
  batchId: string,
  index: number,
  status: ItemStatus,
  result: { operationId?: string; problem?: BatchItem['problem']; gaveUp?: boolean },
): Promise<boolean> =>
  moveItem(batchId, index, {
    from: 'pending',
    to: status,
    fields: {
      operationId: result.operationId ?? null,
      problem: result.problem ?? null,
      ...(result.gaveUp === true ? { gaveUp: true } : {}),
    },
  });

/**
 * Replaces a give-up (an item `failed` because it was put back too often) with the answer a copy of its message got
 * after all, once, and the counts with it. False if the item is not a give-up.
 */
export const reviseGivenUp = (
  batchId: string,
  index: number,
  status: ItemStatus,
  result: { operationId?: string; problem?: BatchItem['problem'] },
): Promise<boolean> =>
  status === 'failed'
    ? Promise.resolve(false)
    : moveItem(batchId, index, {
        from: 'failed',
        to: status,
        fields: { operationId: result.operationId ?? null, problem: result.problem ?? null },
        also: { gaveUp: true },
      });

/**
 * Moves an `in_progress` item of this operation to the final status its operation reached (once: conditional on the
 * item still being `in_progress` with this operation id) and the batch's counts with it. False if it was not.
 */
export const settleItem = (
  batchId: string,
  index: number,
  operationId: string,
  status: Extract<ItemStatus, 'succeeded' | 'failed' | 'rejected'>,
  problem: BatchItem['problem'],
): Promise<boolean> =>
  moveItem(batchId, index, {
    from: 'in_progress',
    to: status,
    fields: { problem: problem ?? null },
    also: { operationId },
  });

/** Says that a create failed part way (best effort): a create again need not wait for it to be over. */
export const markCreateCutShort = async (batchId: string): Promise<void> => {
  await documentClient
    .send(
      new UpdateCommand({
        TableName: table(),
        Key: { batchId, sk: 'meta' },
        UpdateExpression: 'SET createCutShortAt = :now',
        ConditionExpression: 'attribute_exists(batchId)',
        ExpressionAttributeValues: { ':now': new Date().toISOString() },
      }),
    )
    .catch(() => undefined);
};
