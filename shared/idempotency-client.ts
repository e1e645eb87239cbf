/**
 * The DynamoDB client Powertools idempotency writes through: the process's shared client, plus one thing. An
 * execution can hand over its audit entry (`joinFinalWrite`), and Powertools' final write for that execution (the
 * answer saved with UpdateItem, or the record released with DeleteItem after a failure) then goes to DynamoDB in one
 * TransactWriteItems with it. A new key costs three calls (lock, attempt marker, answer + audit) instead of four,
 * and an answer that was saved is never missing from the audit trail.
 *
 * Written by hand because Powertools has no hook for writes of one's own in its final write; the wrapper reads
 * only the public commands Powertools sends, none of its internals. Endpoints without transactions (dynalite,
 * which `npm start` embeds) get the two writes side by side instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DeleteItemCommand, type DynamoDBClient, type TransactWriteItem, TransactWriteItemsCommand, type Update, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDBClient } from './dynamodb.js';

interface FinalWrite {
  update?: Update;
  /** Told when the audit entry, written apart from the answer (no transactions), failed. */
  onSeparateFailure?: (error: unknown) => void;
}

const executions = new AsyncLocalStorage<FinalWrite>();

/** Runs one idempotent execution with room for the audit entry of its final write. */
export const withFinalWrite = <T>(work: () => Promise<T>): Promise<T> => executions.run({}, work);

/** Joins `update` to the current execution's final write; false outside an idempotent execution. */
export const joinFinalWrite = (update: Update, onSeparateFailure: (error: unknown) => void): boolean => {
  const slot = executions.getStore();
  if (slot === undefined) return false;
  Object.assign(slot, { update, onSeparateFailure });
  return true;
};

const asTransactItem = (command: UpdateItemCommand | DeleteItemCommand): TransactWriteItem => {
  const { TableName, Key, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } = command.input;
  if (command instanceof DeleteItemCommand) return { Delete: { TableName, Key, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues } };
  return { Update: { TableName, Key, ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues, UpdateExpression: command.input.UpdateExpression } };
};

let transactionsUnsupported = false;

const sendSeparately = async (command: UpdateItemCommand | DeleteItemCommand, slot: Required<FinalWrite>): Promise<unknown> => {
  const [own, audit] = await Promise.allSettled([dynamoDBClient.send(command as UpdateItemCommand), dynamoDBClient.send(new UpdateItemCommand(slot.update))]);
  if (audit.status === 'rejected') slot.onSeparateFailure(audit.reason);
  if (own.status === 'rejected') throw own.reason;
  return own.value;
};

const sendFinalWrite = async (command: UpdateItemCommand | DeleteItemCommand, slot: Required<FinalWrite>): Promise<unknown> => {
  if (transactionsUnsupported) return sendSeparately(command, slot);
  try {
    return await dynamoDBClient.send(new TransactWriteItemsCommand({ TransactItems: [asTransactItem(command), { Update: slot.update }] }));
  } catch (error) {
    if ((error as Error).name !== 'UnknownOperationException') throw error;
    transactionsUnsupported = true;
    return sendSeparately(command, slot);
  }
};

const send = (async (command: unknown, ...rest: unknown[]) => {
  const slot = executions.getStore();
  if (slot?.update !== undefined && (command instanceof UpdateItemCommand || command instanceof DeleteItemCommand)) {
    const joined = { update: slot.update, onSeparateFailure: slot.onSeparateFailure ?? (() => undefined) };
    // Taken, so a later write in the same execution cannot carry the entry twice.
    delete slot.update;
    return sendFinalWrite(command, joined);
  }
  return (dynamoDBClient.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
}) as DynamoDBClient['send'];

/** The shared client (same connections, config and middleware) with `send` joining final writes. */
export const idempotencyClient: DynamoDBClient = Object.assign(Object.create(dynamoDBClient) as DynamoDBClient, { send });
