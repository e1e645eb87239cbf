/**
 * Durable attempt markers: the record, written before a provider write, that an execution for this
 * idempotency key may already have reached the provider. Powertools idempotency deletes its record when an
 * execution fails and lets an expired in-progress record be taken over, so on its own it would let a retry
 * re-send a call whose answer was lost. The marker survives both; the next execution for the key finds it and
 * reconciles with the provider before sending anything again.
 *
 * One conditional PutItem claims the marker and, when one already exists, returns it (ALL_OLD; a GetItem where
 * the endpoint ignores ALL_OLD, as dynalite does): a new key costs one call.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { config } from './config.js';
import { documentClient } from './dynamodb.js';
import { ProblemError } from './errors.js';
import { IDEMPOTENCY_TABLE } from './tables.js';

export interface AttemptMarker {
  id: string;
  operation: string;
  operationId: string;
  /** Hash of the validated input: a later execution with another payload under the same key is refused. */
  payloadHash: string;
  target: string;
  /** What is being sent, without credentials. */
  request: unknown;
  /** What the operation read before sending, for reconciliation (e.g. eSIM Go's assignments). */
  snapshot?: unknown;
  sentAt: string;
  attempt: number;
  expiration: number;
}

/** JSON with sorted keys, so equal inputs hash equally whatever their key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

export const payloadHash = (input: unknown): string => createHash('sha256').update(canonical(input)).digest('hex');

export const markerId = (operation: string, scope: { caller: string; key: string }): string =>
  `attempt#${operation}#${createHash('sha256').update(`${scope.caller}\n${scope.key}`).digest('hex')}`;

const storeUnavailable = (error: unknown) =>
  new ProblemError('dependency-unavailable', 'The attempt record could not be written, so the provider was not called. Retry with the same key.', {
    retryAfterSeconds: 1,
    cause: error,
  });

const tableName = () => config().IDEMPOTENCY_TABLE_NAME;

export const readMarker = async (id: string): Promise<AttemptMarker | undefined> => {
  try {
    const result = await documentClient.send(new GetCommand({ TableName: tableName(), Key: { [IDEMPOTENCY_TABLE.partitionKey]: id }, ConsistentRead: true }));
    return result.Item as AttemptMarker | undefined;
  } catch (error) {
    throw storeUnavailable(error);
  }
};

/** Writes the marker unless one exists; returns the existing one (an earlier attempt) instead. */
export const claimMarker = async (marker: Omit<AttemptMarker, 'expiration'>): Promise<AttemptMarker | undefined> => {
  const item = { ...marker, expiration: Math.floor(Date.now() / 1000) + config().IDEMPOTENCY_TTL_SECONDS };
  try {
    await documentClient.send(
      new PutCommand({
        TableName: tableName(),
        Item: item,
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': IDEMPOTENCY_TABLE.partitionKey },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return undefined;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw storeUnavailable(error);
    if (error.Item !== undefined) return unmarshall(error.Item) as AttemptMarker;
    return readMarker(marker.id);
  }
};

/** Records a re-send after reconciliation found the earlier attempt had no effect. */
export const renewMarker = async (marker: Omit<AttemptMarker, 'expiration'>): Promise<void> => {
  try {
    await documentClient.send(new PutCommand({ TableName: tableName(), Item: { ...marker, expiration: Math.floor(Date.now() / 1000) + config().IDEMPOTENCY_TTL_SECONDS } }));
  } catch (error) {
    throw storeUnavailable(error);
  }
};

/**
 * Forgets the marker when the write provably had no effect (throttled, or never sent), so the next retry need not
 * reconcile. Conditional on the attempt number, so it never removes a newer execution's marker.
 */
export const releaseMarker = async (id: string, attempt: number): Promise<void> => {
  try {
    await documentClient.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { [IDEMPOTENCY_TABLE.partitionKey]: id },
        ConditionExpression: '#attempt = :attempt',
        ExpressionAttributeNames: { '#attempt': 'attempt' },
        ExpressionAttributeValues: { ':attempt': attempt },
      }),
    );
  } catch {
    // Keeping the marker is always safe: the next retry reconciles instead of sending at once.
  }
};
