/**
 * The DynamoDB client Powertools idempotency writes through: the process's shared client, plus one thing. An
 * execution can hand over its audit entry (`joinFinalWrite`), and Powertools' final write for that execution (the
 * answer saved with UpdateItem, or the record released with DeleteItem after a failure) then goes to DynamoDB in one
 * TransactWriteItems with it. A new key costs three calls (lock, attempt marker, answer + audit) instead of four.
 *
 * The audit entry must never change the caller's answer, so when the transaction fails the two writes are retried
 * apart: Powertools' own write decides the outcome, and a failed audit write is only reported. The same happens on
 * endpoints without transactions (dynalite, which `npm start` embeds), and for any command shape this file was not
 * written for (it reads only the public command inputs Powertools sends, none of its internals).
 *
 * Written by hand because Powertools has no hook for writes of one's own in its final write.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConditionalCheckFailedException, DeleteItemCommand, type DynamoDBClient, type TransactWriteItem, TransactWriteItemsCommand, type Update, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDBClient } from './dynamodb.js';

interface JoinedWrite {
  update: Update;
  /** Told when the audit entry, written apart from the answer, failed. */
  onSeparateFailure: (error: unknown) => void;
}

const executions = new AsyncLocalStorage<{ joined?: JoinedWrite }>();

/** The fields a transaction item can carry over from Powertools' command; any other field means "do not join". */
const TRANSFERABLE = new Set(['TableName', 'Key', 'UpdateExpression', 'ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues']);

const asTransactItem = (command: UpdateItemCommand | DeleteItemCommand): TransactWriteItem | undefined => {
  const input = command.input as unknown as Record<string, unknown>;
  if (Object.keys(input).some((key) => input[key] !== undefined && !TRANSFERABLE.has(key))) return undefined;
  const { TableName, Key, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } = command.input;
  if (command instanceof DeleteItemCommand) return { Delete: { TableName, Key, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } };
  return { Update: { TableName, Key, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues, UpdateExpression: command.input.UpdateExpression } };
};

const writeAudit = async (joined: JoinedWrite): Promise<void> => {
  try {
    await dynamoDBClient.send(new UpdateItemCommand(joined.update));
  } catch (error) {
    // The entry's own guard: this attempt is already recorded (a repeat after a lost answer).
    if (error instanceof ConditionalCheckFailedException) return;
    joined.onSeparateFailure(error);
  }
};

const sendSeparately = async (command: UpdateItemCommand | DeleteItemCommand, joined: JoinedWrite): Promise<unknown> => {
  // The audit write never rejects (failures are reported), so only Powertools' own write can fail this.
  const [own] = await Promise.allSettled([dynamoDBClient.send(command as UpdateItemCommand), writeAudit(joined)]);
  if (own.status === 'rejected') throw own.reason;
  return own.value;
};

let transactionsUnsupported = false;

const sendFinalWrite = async (command: UpdateItemCommand | DeleteItemCommand, joined: JoinedWrite): Promise<unknown> => {
  const own = asTransactItem(command);
  if (transactionsUnsupported || own === undefined) return sendSeparately(command, joined);
  try {
    return await dynamoDBClient.send(new TransactWriteItemsCommand({ TransactItems: [own, { Update: joined.update }] }));
  } catch (error) {
    if ((error as Error).name === 'UnknownOperationException') transactionsUnsupported = true;
    return sendSeparately(command, joined);
  }
};

/**
 * Runs one idempotent execution with room for its audit entry. If the entry was handed over but no final write
 * carried it (Powertools skipped its write, e.g. POWERTOOLS_IDEMPOTENCY_DISABLED), it is written on its own here.
 */
export const withFinalWrite = async <T>(work: () => Promise<T>): Promise<T> => {
  const slot: { joined?: JoinedWrite } = {};
  try {
    return await executions.run(slot, work);
  } finally {
    const left = slot.joined;
    delete slot.joined;
    if (left !== undefined) await writeAudit(left);
  }
};

/** Joins `update` to the current execution's final write; false outside an idempotent execution. */
export const joinFinalWrite = (update: Update, onSeparateFailure: (error: unknown) => void): boolean => {
  const slot = executions.getStore();
  if (slot === undefined) return false;
  slot.joined = { update, onSeparateFailure };
  return true;
};

/** Records an audit entry: with the current execution's final write, or at once outside an idempotent execution. */
export const recordAuditEntry = async (update: Update, onFailure: (error: unknown) => void): Promise<void> => {
  if (!joinFinalWrite(update, onFailure)) await writeAudit({ update, onSeparateFailure: onFailure });
};

const send = (async (command: unknown, ...rest: unknown[]) => {
  const slot = executions.getStore();
  const joined = slot?.joined;
  if (slot !== undefined && joined !== undefined && (command instanceof UpdateItemCommand || command instanceof DeleteItemCommand)) {
    // Taken, so no later write in the same execution can carry the entry twice.
    delete slot.joined;
    return sendFinalWrite(command, joined);
  }
  return (dynamoDBClient.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
}) as DynamoDBClient['send'];

/** The shared client (same connections, config and middleware) with `send` joining final writes. */
export const idempotencyClient: DynamoDBClient = Object.assign(Object.create(dynamoDBClient) as DynamoDBClient, { send });
