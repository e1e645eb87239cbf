/**
 * Reads of the audit trail by its indexes (shared/tables.ts OPERATIONS_INDEXES), newest first: one caller's
 * operations (`byCaller`), or one caller's operations on one eSIM or activation (`byCallerTarget`), within a
 * `createdAt` range (the key condition) and optionally filtered (a FilterExpression, applied after the read). Only
 * Query: nothing here scans, and the functions' roles grant Query on the two indexes alone.
 *
 * A filter drops items after DynamoDB read them, so one Query may return fewer items than asked for: `queryPage` goes
 * on from where DynamoDB stopped until it has `limit` items, the index ends, or it made `maxQueries` queries (then it
 * answers fewer items and a position to go on from).
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { OperationRecord } from '../audit.js';
import { config } from '../config.js';
import { documentClient } from '../dynamodb.js';
import { ProblemError } from '../errors.js';
import { OPERATIONS_INDEXES, OPERATIONS_TABLE } from '../tables.js';
import type { CursorPosition } from './cursor.js';

export type IndexName = keyof typeof OPERATIONS_INDEXES;

/** A condition DynamoDB applies to each item read (its names and values are namespaced `#f_`/`:f_` by the caller). */
export interface Filter {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

export interface OperationsQuery {
  index: IndexName;
  /** The index's partition: a caller, or `callerTarget(caller, target)`. */
  partition: string;
  /** Inclusive `createdAt` bounds, in the records' own form (`toISOString()`). */
  since?: string;
  until?: string;
  filter?: Filter;
  /** Only these attributes (with the index keys, which the next position needs). */
  attributes?: readonly string[];
}

export interface PageRequest {
  limit: number;
  /** Where the previous page stopped (from a cursor). */
  after?: CursorPosition;
  /** The most Query calls this page may take: the bound on reading through items a filter drops. */
  maxQueries: number;
}

export interface Page<Item> {
  items: Item[];
  /** Where to go on from; undefined at the end of the index's range. */
  next: CursorPosition | undefined;
  queries: number;
}

/** How many items one Query reads when a filter may drop some: enough that sparse matches need few round trips. */
const FILTERED_READ = 100;

const keyCondition = (query: OperationsQuery): string => {
  const base = '#pk = :pk';
  if (query.since !== undefined && query.until !== undefined) return `${base} AND #sk BETWEEN :since AND :until`;
  if (query.since !== undefined) return `${base} AND #sk >= :since`;
  if (query.until !== undefined) return `${base} AND #sk <= :until`;
  return base;
};

/** DynamoDB refused or could not be reached: a 503 to retry (a ValidationException is a bug, and stays a 500). */
const unavailable = (error: unknown): unknown => {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'ValidationException') return error;
  return new ProblemError('dependency-unavailable', 'The audit trail could not be read just now; retry.', {
    retryAfterSeconds: 1,
    cause: error,
  });
};

/** One page of a query, newest first: up to `limit` items, and the position after the last of them. */
export const queryPage = async <Item = OperationRecord>(
  query: OperationsQuery,
  request: PageRequest,
): Promise<Page<Item>> => {
  const index = OPERATIONS_INDEXES[query.index];
  const startKey = (position: CursorPosition) => ({
    [OPERATIONS_TABLE.partitionKey]: position.operationId,
    [index.sortKey]: position.createdAt,
    [index.partitionKey]: query.partition,
  });
  const positionOf = (item: Record<string, unknown>): CursorPosition => ({
    operationId: String(item[OPERATIONS_TABLE.partitionKey]),
    createdAt: String(item[index.sortKey]),
  });
  const names: Record<string, string> = {
    '#pk': index.partitionKey,
    // DynamoDB refuses a name no expression uses.
    ...(query.since === undefined && query.until === undefined ? {} : { '#sk': index.sortKey }),
    ...query.filter?.names,
  };
  const projection =
    query.attributes === undefined
      ? undefined
      : [...new Set([...query.attributes, OPERATIONS_TABLE.partitionKey, index.partitionKey, index.sortKey])].map(
          (attribute, position) => {
            names[`#p${position}`] = attribute;
            return `#p${position}`;
          },
        );
  const values: Record<string, unknown> = {
    ':pk': query.partition,
    ...(query.since === undefined ? {} : { ':since': query.since }),
    ...(query.until === undefined ? {} : { ':until': query.until }),
    ...query.filter?.values,
  };

  const items: Item[] = [];
  let exclusiveStart: Record<string, unknown> | undefined =
    request.after === undefined ? undefined : startKey(request.after);
  let queries = 0;
  while (queries < request.maxQueries) {
    const remaining = request.limit - items.length;
    let result: QueryCommandOutput;
    try {
      result = await documentClient.send(
        new QueryCommand({
          TableName: config().OPERATIONS_TABLE_NAME,
          IndexName: index.name,
          KeyConditionExpression: keyCondition(query),
          FilterExpression: query.filter?.expression,
          ProjectionExpression: projection?.join(', '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // Without a filter every item read is returned, so reading `remaining` items is exact.
          Limit: query.filter === undefined ? remaining : Math.max(remaining, FILTERED_READ),
          ExclusiveStartKey: exclusiveStart,
        }),
      );
    } catch (error) {
      throw unavailable(error);
    }
    queries += 1;
    const found = result.Items ?? [];
    if (found.length > remaining) {
      // A filtered read found more than the page needs: stop after the last one taken.
      const taken = found.slice(0, remaining);
      items.push(...(taken as Item[]));
      return { items, next: positionOf(taken.at(-1) as Record<string, unknown>), queries };
    }
    items.push(...(found as Item[]));
    const last = result.LastEvaluatedKey;
    if (last === undefined) return { items, next: undefined, queries };
    exclusiveStart = last;
    if (items.length === request.limit) return { items, next: positionOf(last), queries };
  }
  return {
    items,
    next: exclusiveStart === undefined ? undefined : positionOf(exclusiveStart),
    queries,
  };
};
