/**
 * The DynamoDB client Powertools idempotency writes through: the process's shared client, plus two joins, so a new
 * key costs three sequential calls with the target lease included:
 * - Powertools' lock (its conditional PutItem) goes in one TransactWriteItems with the key's marker and the target's
 *   lease (`JoinedWrites.start`). If only the lock's condition fails (a replay, a key in flight), Powertools gets the
 *   ConditionalCheckFailedException with the old item it expects. If the marker's or the lease's fails (a retry, a
 *   busy target), the lock is sent alone and the lease stage decides with the items DynamoDB returned.
 * - Powertools' final write (the answer saved with UpdateItem, or the key released with DeleteItem) goes in one
 *   TransactWriteItems with the lease release and the audit entry (`JoinedWrites.final`). The release is conditional
 *   on still holding the lease, so an execution that outlived its invocation cannot save over, or release, the key
 *   another execution took over: that failure is thrown and nothing is written. The audit entry must never change
 *   the caller's answer: when only it fails, the answer and the release are written without it.
 * Endpoints without transactions (dynalite, which `npm start` embeds) get the same writes one after another.
 *
 * Written by hand because Powertools has no hook for writes of one's own in its lock or final write.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { dynamoDBClient } from './dynamodb.js';
import type { JoinedWrites } from './operations/pipeline/execution.js';
import { LeaseLostError } from './target-lease.js';

const executions = new AsyncLocalStorage<JoinedWrites>();

/** The fields a transaction item can carry over from Powertools' command; any other field means "do not join". */
const TRANSFERABLE = new Set([
  'TableName',
  'Key',
  'Item',
  'UpdateExpression',
  'ConditionExpression',
  'ExpressionAttributeNames',
  'ExpressionAttributeValues',
  'ReturnValuesOnConditionCheckFailure',
]);

const asTransactItem = (
  command: PutItemCommand | UpdateItemCommand | DeleteItemCommand,
): TransactWriteItem | undefined => {
  const input = command.input as unknown as Record<string, unknown>;
  if (Object.keys(input).some((key) => input[key] !== undefined && !TRANSFERABLE.has(key))) return undefined;
  const { TableName, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } = command.input;
  if (command instanceof PutItemCommand) {
    return {
      Put: {
        TableName,
        Item: command.input.Item,
        ConditionExpression,
        ExpressionAttributeNames,
        ExpressionAttributeValues,
        ReturnValuesOnConditionCheckFailure:
          command.input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? 'ALL_OLD' : undefined,
      },
    };
  }
  if (command instanceof DeleteItemCommand)
    return {
      Delete: {
        TableName,
        Key: command.input.Key,
        ConditionExpression,
        ExpressionAttributeNames,
        ExpressionAttributeValues,
      },
    };
  return {
    Update: {
      TableName,
      Key: command.input.Key,
      ConditionExpression,
      ExpressionAttributeNames,
      ExpressionAttributeValues,
      UpdateExpression: command.input.UpdateExpression,
    },
  };
};

let transactionsUnsupported = false;
const unsupported = (error: unknown) => {
  if ((error as Error).name === 'UnknownOperationException') transactionsUnsupported = true;
  return transactionsUnsupported;
};
const sendOwn = (command: unknown) => (dynamoDBClient.send as (command: unknown) => Promise<unknown>)(command);

/** Powertools' lock, with the key marker and the lease of a new key in the same transaction. */
const sendLock = async (command: PutItemCommand, start: NonNullable<JoinedWrites['start']>): Promise<unknown> => {
  const lock = asTransactItem(command);
  if (transactionsUnsupported || lock === undefined) {
    start.result = { joined: false };
    return sendOwn(command);
  }
  try {
    await dynamoDBClient.send(new TransactWriteItemsCommand({ TransactItems: [lock, ...start.items] }));
    start.result = { joined: true };
    return {};
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const [lockReason, markerReason, targetReason] = error.CancellationReasons ?? [];
      if (lockReason?.Code === 'ConditionalCheckFailed') {
        start.result = { joined: false };
        // What Powertools expects from its own PutItem: it replays, or answers "in progress", from the old item.
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: error.$metadata,
          Item: lockReason.Item,
        });
      }
      // What each condition saw: the old item when it failed, nothing there when it passed (no read needed then).
      const seen = (reason: typeof markerReason) =>
        reason?.Code === 'ConditionalCheckFailed'
          ? (reason.Item ?? undefined)
          : reason?.Code === 'None'
            ? null
            : undefined;
      start.result = { joined: false, knownMarker: seen(markerReason), knownTarget: seen(targetReason) };
    } else {
      unsupported(error);
      start.result = { joined: false };
    }
    return sendOwn(command);
  }
};

const writeAudit = async (audit: NonNullable<NonNullable<JoinedWrites['final']>['audit']>): Promise<void> => {
  try {
    await dynamoDBClient.send(new UpdateItemCommand(audit.update));
  } catch (error) {
    // The entry's own guard: this attempt is already recorded (a repeat after a lost answer).
    if (error instanceof ConditionalCheckFailedException) return;
    audit.onSeparateFailure(error);
  }
};

/** Without a transaction: the lease is checked first, then Powertools' write, then the release and the audit. */
const sendFinalSeparately = async (
  command: UpdateItemCommand | DeleteItemCommand,
  final: NonNullable<JoinedWrites['final']>,
): Promise<unknown> => {
  const release = final.release;
  if (release !== undefined) {
    try {
      await dynamoDBClient.send(
        new UpdateItemCommand({
          TableName: release.TableName,
          Key: release.Key,
          UpdateExpression: 'SET version = version',
          ConditionExpression: release.ConditionExpression,
          ExpressionAttributeValues: { ':token': release.ExpressionAttributeValues?.[':token'] as never },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new LeaseLostError('the target lease was taken over before the answer was saved');
      throw error;
    }
  }
  const own = await sendOwn(command);
  const alongside = release === undefined ? [] : [release, ...(final.withRelease ?? [])];
  await Promise.allSettled([
    ...alongside.map((update) => dynamoDBClient.send(new UpdateItemCommand(update))),
    final.audit === undefined ? undefined : writeAudit(final.audit),
  ]);
  return own;
};

const reasonCode = (error: unknown, index: number): string | undefined =>
  error instanceof TransactionCanceledException ? error.CancellationReasons?.[index]?.Code : undefined;

const sendFinalWrite = async (
  command: UpdateItemCommand | DeleteItemCommand,
  final: NonNullable<JoinedWrites['final']>,
): Promise<unknown> => {
  const own = asTransactItem(command);
  if (transactionsUnsupported || own === undefined) return sendFinalSeparately(command, final);
  const release: TransactWriteItem[] =
    final.release === undefined
      ? []
      : [{ Update: final.release }, ...(final.withRelease ?? []).map((Update) => ({ Update }))];
  const audit: TransactWriteItem[] = final.audit === undefined ? [] : [{ Update: final.audit.update }];
  try {
    return await dynamoDBClient.send(new TransactWriteItemsCommand({ TransactItems: [own, ...release, ...audit] }));
  } catch (error) {
    if (unsupported(error)) return sendFinalSeparately(command, final);
    if (release.length > 0 && reasonCode(error, 1) === 'ConditionalCheckFailed')
      throw new LeaseLostError('the target lease was taken over before the answer was saved');
    if (final.audit === undefined) throw error;
    // The audit entry never decides: the answer and the release go without it, the entry is written on its own.
    const [result] = await Promise.allSettled([
      release.length === 0
        ? sendOwn(command)
        : dynamoDBClient.send(new TransactWriteItemsCommand({ TransactItems: [own, ...release] })),
      writeAudit(final.audit),
    ]);
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  }
};

/**
 * Runs one idempotent execution with its joined writes. Writes handed over but carried by no Powertools write
 * (Powertools skipped it, e.g. POWERTOOLS_IDEMPOTENCY_DISABLED) are written on their own here.
 */
export const withJoinedWrites = async <T>(joined: JoinedWrites, work: () => Promise<T>): Promise<T> => {
  try {
    return await executions.run(joined, work);
  } finally {
    const left = joined.final;
    delete joined.final;
    if (left?.release !== undefined)
      await dynamoDBClient.send(new UpdateItemCommand(left.release as Update)).catch(() => undefined);
    if (left?.audit !== undefined) await writeAudit(left.audit);
  }
};

const send = (async (command: unknown, ...rest: unknown[]) => {
  const joined = executions.getStore();
  if (joined !== undefined) {
    const start = joined.start;
    if (command instanceof PutItemCommand && start !== undefined && start.result === undefined)
      return sendLock(command, start);
    const final = joined.final;
    if (final !== undefined && (command instanceof UpdateItemCommand || command instanceof DeleteItemCommand)) {
      // Taken, so no later write in the same execution can carry the entries twice.
      delete joined.final;
      return sendFinalWrite(command, final);
    }
  }
  return (dynamoDBClient.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
}) as DynamoDBClient['send'];

/** The shared client (same connections, config and middleware) with `send` joining the lock and final writes. */
export const idempotencyClient: DynamoDBClient = Object.assign(Object.create(dynamoDBClient) as DynamoDBClient, {
  send,
});
