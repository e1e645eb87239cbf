/**
 * Key markers: one item per idempotency key (scoped by caller and operation) that outlives Powertools' record.
 * Powertools deletes its record when an execution fails and lets an expired in-progress record be taken over, so on
 * its own it forgets what a key did. The marker keeps, for every execution of the key, the first operation id, the
 * attempt count and the payload hash (a later execution with another payload is refused), and the verdict another
 * key's reconciliation reached about this key's unresolved attempt.
 *
 * Expiry rule (one rule, whatever the TTL sweeper did): an item whose `expiration` has passed is treated as absent
 * by every read and every condition. An expired key is a new key.
 */
import { createHash } from 'node:crypto';
import type { Put } from '@aws-sdk/client-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { config } from './config.js';
import { documentClient } from './dynamodb.js';
import { ProblemError } from './errors.js';
import type { UpstreamAnswer } from './providers/outcome.js';
import { IDEMPOTENCY_TABLE } from './tables.js';

/** What another key's reconciliation concluded about this key's unresolved attempt. */
export interface RecordedVerdict {
  attempt: number;
  verdict: 'applied' | 'absent' | 'rejected' | 'ambiguous';
  harmlessToResend?: boolean;
  observed?: Record<string, unknown>;
  upstream?: UpstreamAnswer | null;
  message?: string;
  status?: 'succeeded' | 'in_progress';
  details?: Record<string, unknown>;
  at: string;
}

export interface KeyMarker {
  id: string;
  operation: string;
  operationId: string;
  /** Hash of the validated input: a later execution with another payload under the same key is refused. */
  payloadHash: string;
  /** The target item this key works on. */
  target: string;
  /** Executions of this key that got past the lease stage, this one included. */
  attempt: number;
  verdict?: RecordedVerdict;
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

export const storeUnavailable = (error: unknown, what = 'The attempt record') =>
  new ProblemError(
    'dependency-unavailable',
    `${what} could not be written, so the provider was not called. Retry with the same key.`,
    {
      retryAfterSeconds: 1,
      cause: error,
    },
  );

const tableName = () => config().IDEMPOTENCY_TABLE_NAME;
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
export const keyExpiration = (): number => nowSeconds() + config().IDEMPOTENCY_TTL_SECONDS;
const live = <T extends { expiration: number }>(item: T | undefined): T | undefined =>
  item !== undefined && item.expiration >= nowSeconds() ? item : undefined;

export const newKeyMarker = (fields: Omit<KeyMarker, 'attempt' | 'expiration' | 'verdict'>): KeyMarker => ({
  ...fields,
  attempt: 1,
  expiration: keyExpiration(),
});

/** The Put that creates a key's marker unless a live one exists (folded into the idempotency lock's transaction). */
export const keyMarkerPut = (marker: KeyMarker): Put => ({
  TableName: tableName(),
  Item: marshall(marker, { removeUndefinedValues: true }),
  ConditionExpression: 'attribute_not_exists(#id) OR #expiration < :now',
  ExpressionAttributeNames: { '#id': IDEMPOTENCY_TABLE.partitionKey, '#expiration': 'expiration' },
  ExpressionAttributeValues: marshall({ ':now': nowSeconds() }),
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
});

export const readKeyMarker = async (id: string): Promise<KeyMarker | undefined> => {
  try {
    const result = await documentClient.send(
      new GetCommand({ TableName: tableName(), Key: { [IDEMPOTENCY_TABLE.partitionKey]: id }, ConsistentRead: true }),
    );
    return live(result.Item as KeyMarker | undefined);
  } catch (error) {
    throw storeUnavailable(error);
  }
};

const reused = () =>
  new ProblemError(
    'idempotency-key-reused',
    'This Idempotency-Key was used with a different request payload; use a new key for a new request.',
  );

/**
 * Claims the next attempt of a key: creates the marker, or (an earlier execution of this key exists) checks its
 * payload hash and takes its operation id with the attempt number after it. `known` is the marker as read already
 * (null: known to be absent).
 */
export const claimKey = async (fresh: KeyMarker, known?: KeyMarker | null): Promise<KeyMarker> => {
  for (let round = 0; round < 3; round += 1) {
    const existing = round === 0 && known !== undefined ? live(known ?? undefined) : await readKeyMarker(fresh.id);
    try {
      if (existing === undefined) {
        await documentClient.send(
          new UpdateCommand({
            TableName: tableName(),
            Key: { [IDEMPOTENCY_TABLE.partitionKey]: fresh.id },
            UpdateExpression:
              'SET operation = :operation, operationId = :operationId, payloadHash = :hash, #target = :target, attempt = :one, expiration = :expiration REMOVE verdict',
            ConditionExpression: 'attribute_not_exists(#id) OR expiration < :now',
            ExpressionAttributeNames: { '#id': IDEMPOTENCY_TABLE.partitionKey, '#target': 'target' },
            ExpressionAttributeValues: {
              ':operation': fresh.operation,
              ':operationId': fresh.operationId,
              ':hash': fresh.payloadHash,
              ':target': fresh.target,
              ':one': 1,
              ':expiration': fresh.expiration,
              ':now': nowSeconds(),
            },
          }),
        );
        return fresh;
      }
      if (existing.payloadHash !== fresh.payloadHash) throw reused();
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: { [IDEMPOTENCY_TABLE.partitionKey]: fresh.id },
          // The lifetime is refreshed with each attempt, as the target's is: an attempt must not outlive its key's marker.
          UpdateExpression: 'SET attempt = :next, expiration = :expiration',
          ConditionExpression: 'attempt = :current',
          ExpressionAttributeValues: {
            ':next': existing.attempt + 1,
            ':current': existing.attempt,
            ':expiration': keyExpiration(),
          },
        }),
      );
      return { ...existing, attempt: existing.attempt + 1, expiration: keyExpiration() };
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      if (!(error instanceof ConditionalCheckFailedException)) throw storeUnavailable(error);
      // Another execution of this key moved the marker meanwhile: read it again.
    }
  }
  throw new ProblemError(
    'idempotency-key-in-flight',
    'Another request with this Idempotency-Key is being processed; retry after the indicated delay.',
    { retryAfterSeconds: 1 },
  );
};

/** The Update that records another key's verdict on this key's marker (alone, or inside a transaction). */
export const verdictUpdate = (markerIdOfKey: string, verdict: RecordedVerdict) => ({
  TableName: tableName(),
  Key: marshall({ [IDEMPOTENCY_TABLE.partitionKey]: markerIdOfKey }),
  UpdateExpression: 'SET verdict = :verdict',
  ConditionExpression: 'attribute_exists(#id)',
  ExpressionAttributeNames: { '#id': IDEMPOTENCY_TABLE.partitionKey },
  ExpressionAttributeValues: marshall(
    { ':verdict': verdict },
    { removeUndefinedValues: true, convertClassInstanceToMap: true },
  ),
});
