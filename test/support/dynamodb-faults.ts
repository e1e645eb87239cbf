/**
 * Fault injection in the data layer: makes chosen DynamoDB commands of this process fail, through the SDK's own
 * middleware stack on the shared client the handlers use (real requests otherwise reach DynamoDB Local).
 */
import { dynamoDBClient } from '../../shared/dynamodb.js';

interface PendingFault {
  command: string;
  /** Only commands whose input mentions this text (e.g. an operation target). */
  matching?: string;
  /** Only commands on this table. */
  table?: string;
  remaining: number;
}

const pending: PendingFault[] = [];

/** The tables a command writes or reads: its own, or those of each item of a transaction. */
const tablesOf = (input: unknown): string[] => {
  const { TableName, TransactItems } = input as { TableName?: string; TransactItems?: Array<Record<string, { TableName?: string }>> };
  if (TransactItems !== undefined) return TransactItems.flatMap((item) => Object.values(item).map((operation) => operation.TableName ?? ''));
  return TableName === undefined ? [] : [TableName];
};
let installed = false;

const install = () => {
  if (installed) return;
  installed = true;
  dynamoDBClient.middlewareStack.add(
    (next, context) => async (args) => {
      const text = JSON.stringify(args.input);
      const fault = pending.find(
        (candidate) =>
          candidate.command === context.commandName &&
          (candidate.matching === undefined || text.includes(candidate.matching)) &&
          (candidate.table === undefined || tablesOf(args.input).includes(candidate.table)),
      );
      if (fault !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) pending.splice(pending.indexOf(fault), 1);
        throw Object.assign(new Error(`Injected ${context.commandName} failure`), { name: 'InternalServerError', $fault: 'server' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'testFaultInjection' },
  );
};

/** The next `times` matching commands fail (e.g. 'UpdateItemCommand': Powertools saving a result). */
export const failDynamoDB = (command: string, options: { matching?: string; table?: string; times?: number } = {}): void => {
  install();
  pending.push({ command, matching: options.matching, table: options.table, remaining: options.times ?? 1 });
};

/**
 * Fails the next result write of Powertools idempotency for a target: the transaction that saves the answer with the
 * audit entry, and the answer's write on its own that follows a failed transaction.
 */
export const failIdempotencyResultWrite = (target: string): void => {
  failDynamoDB('TransactWriteItemsCommand', { matching: target, table: process.env.IDEMPOTENCY_TABLE_NAME });
  failDynamoDB('UpdateItemCommand', { matching: target, table: process.env.IDEMPOTENCY_TABLE_NAME });
};

export const clearDynamoDBFaults = (matching?: string): void => {
  for (let index = pending.length - 1; index >= 0; index -= 1) if (matching === undefined || pending[index]?.matching === matching) pending.splice(index, 1);
};
