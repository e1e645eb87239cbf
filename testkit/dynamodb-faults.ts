/**
 * Fault injection in the data layer: makes chosen DynamoDB commands of this process fail or slow, through the SDK's
 * own middleware stack on the shared client the handlers use (real requests otherwise reach DynamoDB Local).
 */
import { dynamoDBClient } from '../shared/dynamodb.js';

interface PendingFault {
  /** `fail` throws a server error instead of sending; `delay` sends after `ms` (`before`) or answers `ms` late (`after`). */
  effect: 'fail' | 'delay';
  ms?: number;
  phase?: 'before' | 'after';
  command: string;
  /** Only commands whose input mentions this text (e.g. an operation target). */
  matching?: string;
  /** And this text too (e.g. the status Powertools saves an answer with). */
  alsoMatching?: string;
  /** Only commands on this table. */
  table?: string;
  remaining: number;
}

const pending: PendingFault[] = [];

/** A random fault for one command: asked for every command no pending fault matched (chaos runs). */
export type DynamoDBChaos = (
  command: string,
  input: string,
) => Pick<PendingFault, 'effect' | 'ms' | 'phase'> | undefined;
let chaos: DynamoDBChaos | undefined;
/** Lets `decide` strike any command (given its name and its input as JSON); `undefined` stops it. */
export const setDynamoDBChaos = (decide: DynamoDBChaos | undefined): void => {
  install();
  chaos = decide;
};
/** How many commands each fault struck, by `fail <command>` / `delay <command>`. */
export const dynamoDBFaultsStruck: Record<string, number> = {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The tables a command writes or reads: its own, or those of each item of a transaction. */
const tablesOf = (input: unknown): string[] => {
  const { TableName, TransactItems } = input as {
    TableName?: string;
    TransactItems?: Array<Record<string, { TableName?: string }>>;
  };
  if (TransactItems !== undefined)
    return TransactItems.flatMap((item) => Object.values(item).map((operation) => operation.TableName ?? ''));
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
          (candidate.alsoMatching === undefined || text.includes(candidate.alsoMatching)) &&
          (candidate.table === undefined || tablesOf(args.input).includes(candidate.table)),
      );
      if (fault !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) pending.splice(pending.indexOf(fault), 1);
      }
      const strikes = fault ?? chaos?.(context.commandName ?? '', text);
      if (strikes === undefined) return next(args);
      const struck = `${strikes.effect} ${context.commandName}`;
      dynamoDBFaultsStruck[struck] = (dynamoDBFaultsStruck[struck] ?? 0) + 1;
      if (strikes.effect === 'fail')
        throw Object.assign(new Error(`Injected ${context.commandName} failure`), {
          name: 'InternalServerError',
          $fault: 'server',
        });
      if (strikes.phase === 'after') {
        // The command reaches DynamoDB and takes effect now; its answer arrives late.
        const result = await next(args).catch(async (error: unknown) => {
          await sleep(strikes.ms ?? 0);
          throw error;
        });
        await sleep(strikes.ms ?? 0);
        return result;
      }
      await sleep(strikes.ms ?? 0);
      return next(args);
    },
    { step: 'initialize', name: 'testFaultInjection' },
  );
};

/** The next `times` matching commands fail (e.g. 'UpdateItemCommand': Powertools saving a result). */
export const failDynamoDB = (
  command: string,
  options: { matching?: string; alsoMatching?: string; table?: string; times?: number } = {},
): void => {
  install();
  pending.push({
    effect: 'fail',
    command,
    matching: options.matching,
    alsoMatching: options.alsoMatching,
    table: options.table,
    remaining: options.times ?? 1,
  });
};

/**
 * The next `times` matching commands are slow by `ms`: sent `ms` late (`phase: 'before'`, the default: the write
 * lands late), or sent now and answered `ms` late (`phase: 'after'`: the write has landed, the caller does not know).
 */
export const delayDynamoDB = (
  command: string,
  options: { ms: number; matching?: string; table?: string; times?: number; phase?: 'before' | 'after' },
): void => {
  install();
  pending.push({
    effect: 'delay',
    ms: options.ms,
    phase: options.phase ?? 'before',
    command,
    matching: options.matching,
    table: options.table,
    remaining: options.times ?? 1,
  });
};

/**
 * Fails the next result write of Powertools idempotency for a target: the transaction that saves the answer with the
 * audit entry, and the answer's write on its own that follows a failed transaction.
 */
export const failIdempotencyResultWrite = (target: string): void => {
  failDynamoDB('TransactWriteItemsCommand', {
    matching: target,
    alsoMatching: 'COMPLETED',
    table: process.env.IDEMPOTENCY_TABLE_NAME,
    times: 2,
  });
  failDynamoDB('UpdateItemCommand', {
    matching: target,
    alsoMatching: 'COMPLETED',
    table: process.env.IDEMPOTENCY_TABLE_NAME,
  });
};

/** Faults still waiting to strike: all of them, or those aimed at one `matching` text. */
export const pendingDynamoDBFaults = (matching?: string): number =>
  pending.filter((fault) => matching === undefined || fault.matching === matching).length;

export const clearDynamoDBFaults = (matching?: string): void => {
  for (let index = pending.length - 1; index >= 0; index -= 1)
    if (matching === undefined || pending[index]?.matching === matching) pending.splice(index, 1);
};
