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
let installed = false;

const install = () => {
  if (installed) return;
  installed = true;
  dynamoDBClient.middlewareStack.add(
    (next, context) => async (args) => {
      const text = JSON.stringify(args.input);
      const table = (args.input as { TableName?: string }).TableName;
      const fault = pending.find(
        (candidate) =>
          candidate.command === context.commandName &&
          (candidate.matching === undefined || text.includes(candidate.matching)) &&
          (candidate.table === undefined || candidate.table === table),
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

/** Fails the next result write of Powertools idempotency (the UpdateItem on the idempotency table) for a target. */
export const failIdempotencyResultWrite = (target: string): void =>
  failDynamoDB('UpdateItemCommand', { matching: target, table: process.env.IDEMPOTENCY_TABLE_NAME });

export const clearDynamoDBFaults = (matching?: string): void => {
  for (let index = pending.length - 1; index >= 0; index -= 1) if (matching === undefined || pending[index]?.matching === matching) pending.splice(index, 1);
};
