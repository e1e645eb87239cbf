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
import { itemKey } from './model.js';

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

/** Writes a new batch (meta first, conditional on the id being new) and its items; false if it existed. */
export const createBatch = async (meta: BatchMeta, items: BatchItem[]): Promise<boolean> => {
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: table(),
        Key: { batchId: meta.batchId, sk: 'meta' },
        UpdateExpression: `SET ${Object.keys(meta)
          .filter((name) => name !== 'batchId' && name !== 'sk')
          .map((name) => `#${name} = :${name}`)
          .join(', ')}`,
        ConditionExpression: 'attribute_not_exists(batchId)',
        ExpressionAttributeNames: Object.fromEntries(
          Object.keys(meta)
            .filter((name) => name !== 'batchId' && name !== 'sk')
            .map((name) => [`#${name}`, name]),
        ),
        ExpressionAttributeValues: Object.fromEntries(
          Object.entries(meta)
            .filter(([name]) => name !== 'batchId' && name !== 'sk')
            .map(([name, value]) => [`:${name}`, value]),
        ),
      }),
    );
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
  for (let start = 0; start < items.length; start += 25) {
    let pending = items.slice(start, start + 25).map((item) => ({ PutRequest: { Item: item } }));
    // BatchWrite may leave some unprocessed under load: send those again.
    for (let round = 0; pending.length > 0 && round < 8; round += 1) {
      const result = await documentClient.send(new BatchWriteCommand({ RequestItems: { [table()]: pending } }));
      pending = (result.UnprocessedItems?.[table()] ?? []) as typeof pending;
    }
    if (pending.length > 0) throw new Error('DynamoDB did not take every batch item');
  }
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

/** Moves an item from pending to its final status (once) and the batch's counts with it. */
export const finishItem = async (
  batchId: string,
  index: number,
  status: ItemStatus,
  result: { operationId?: string; problem?: BatchItem['problem'] },
): Promise<boolean> => {
  try {
    await transact([
      {
        TableName: table(),
        Key: { batchId, sk: itemKey(index) },
        UpdateExpression: 'SET #status = :status, operationId = :operationId, problem = :problem, updatedAt = :now',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': status,
          ':operationId': result.operationId ?? null,
          ':problem': result.problem ?? null,
          ':now': new Date().toISOString(),
          ':pending': 'pending',
        },
      },
      {
        TableName: table(),
        Key: { batchId, sk: 'meta' },
        UpdateExpression: 'ADD counts.#pending :minus, counts.#done :one SET updatedAt = :now',
        ExpressionAttributeNames: { '#pending': 'pending', '#done': status },
        ExpressionAttributeValues: { ':minus': -1, ':one': 1, ':now': new Date().toISOString() },
      },
    ]);
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
};
