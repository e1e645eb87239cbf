/**
 * The target lease: one item per target (an eSIM, an activation) in the idempotency table that serializes every key's
 * work on it and remembers an attempt whose outcome was lost.
 *
 * - `holder`/`leaseToken`/`leaseExpiresAt`: the execution working on the target now. The lease is taken before the
 *   first provider read and released in the same transaction that saves the answer; it expires with the invocation
 *   (Powertools' in-progress lock expires then too), so a container that dies blocks the target only until then.
 * - `pending`: the attempt whose write was sent (written right before sending) and whose outcome is not known. It
 *   stays after the lease is released and keeps the target busy for every other key until it is reconciled: by the
 *   same key's retry, or, once the reconcile window has passed, by another key, which records its verdict on the old
 *   key's marker and clears it.
 * - `version`: changes on every write, so a taker that decided from a read can condition on nothing having moved.
 *
 * Written by hand because Powertools idempotency locks one key, and this locks one target across keys.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type Update } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { config } from './config.js';
import { documentClient } from './dynamodb.js';
import { storeUnavailable, keyExpiration, nowSeconds } from './key-markers.js';
import { IDEMPOTENCY_TABLE } from './tables.js';

/** What an execution recorded right before sending its write. */
export interface PendingAttempt {
  /** The key marker of the execution that sent it. */
  keyId: string;
  operation: string;
  operationId: string;
  attempt: number;
  /** What was sent, without credentials. */
  request: unknown;
  /** What the operation read before sending, for reconciliation (e.g. eSIM Go's assignments). */
  snapshot?: unknown;
  sentAt: string;
  sentAtMs: number;
  /**
   * This write was also the check of another key's unresolved attempt (a provider without reads): if its own answer
   * is lost, which of the two took effect can no longer be told.
   */
  checkedAnother?: boolean;
}

/** The latest effect the gateway knows of on this target (a success, or an attempt reconciled as applied). */
export interface KnownEffect {
  operationId: string;
  atMs: number;
}

export interface TargetRecord {
  id: string;
  holder?: string;
  leaseToken?: string;
  leaseExpiresAt?: number;
  pending?: PendingAttempt;
  /**
   * Lets reconciliation tell "the state shows my write" from "the state was already like that": for a provider
   * whose final state looks the same whoever caused it (sTN CANCELLING, a Monogoto eSIM no longer released).
   */
  lastEffect?: KnownEffect;
  version: string;
  expiration: number;
}

export interface Lease {
  targetId: string;
  token: string;
  holder: string;
  expiresAt: number;
}

export const targetId = (provider: string, lease: string): string => `target#${provider}#${lease}`;

const tableName = () => config().IDEMPOTENCY_TABLE_NAME;
const key = (id: string) => ({ [IDEMPOTENCY_TABLE.partitionKey]: id });

/** How long after a write was sent the provider may still apply it; until then "no effect yet" proves nothing. */
export const reconcileWindowMs = (): number => config().RECONCILE_AFTER_MS ?? 2 * config().UPSTREAM_TIMEOUT_MS;

export const newLease = (targetIdOfInput: string, holder: string, expiresAt: number): Lease => ({
  targetId: targetIdOfInput,
  token: randomUUID(),
  holder,
  expiresAt,
});

/**
 * The Update that takes a free target (folded into the idempotency lock's transaction for a new key): no live lease
 * and no unresolved attempt. An Update, not a Put: the target's history (`lastEffect`) stays. Anything else,
 * including an expired item that still carries an attempt, is left to the slow path (`acquireLease`).
 */
export const leaseUpdate = (lease: Lease): Update => ({
  TableName: tableName(),
  Key: marshall(key(lease.targetId)),
  UpdateExpression:
    'SET holder = :holder, leaseToken = :token, leaseExpiresAt = :until, version = :version, expiration = :expiration',
  ConditionExpression:
    'attribute_not_exists(#id) OR (attribute_not_exists(pending) AND (attribute_not_exists(leaseToken) OR leaseExpiresAt < :nowMs))',
  ExpressionAttributeNames: { '#id': IDEMPOTENCY_TABLE.partitionKey },
  ExpressionAttributeValues: marshall({
    ':holder': lease.holder,
    ':token': lease.token,
    ':until': lease.expiresAt,
    ':version': randomUUID(),
    ':expiration': keyExpiration(),
    ':nowMs': Date.now(),
  }),
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
});

export const readTarget = async (id: string): Promise<TargetRecord | undefined> => {
  try {
    const item = (
      await documentClient.send(new GetCommand({ TableName: tableName(), Key: key(id), ConsistentRead: true }))
    ).Item as TargetRecord | undefined;
    return item !== undefined && item.expiration >= nowSeconds() ? item : undefined;
  } catch (error) {
    throw storeUnavailable(error, 'The target lease');
  }
};

/** Why a target cannot be taken now, and when to come back. */
export interface Busy {
  busy: true;
  retryAfterSeconds: number;
  reason: 'leased' | 'unresolved';
  /** The operation of the attempt that blocks it (for the problem body; never another caller's identity). */
  operationId?: string;
}

export type Acquired = { busy: false; lease: Lease; pending?: PendingAttempt; lastEffect?: KnownEffect };

const secondsUntil = (ms: number, cap: number) => Math.min(Math.max(Math.ceil((ms - Date.now()) / 1000), 1), cap);

/** What a read of the target allows this key to do. */
export const judge = (
  record: TargetRecord | undefined,
  holder: string,
): Busy | { busy: false; pending?: PendingAttempt } => {
  if (record === undefined) return { busy: false };
  const leased = record.leaseToken !== undefined && (record.leaseExpiresAt ?? 0) >= Date.now();
  if (leased) return { busy: true, reason: 'leased', retryAfterSeconds: secondsUntil(record.leaseExpiresAt ?? 0, 2) };
  const pending = record.pending;
  if (pending === undefined || pending.keyId === holder) return { busy: false, pending };
  const settledAt = pending.sentAtMs + reconcileWindowMs();
  if (Date.now() < settledAt)
    return {
      busy: true,
      reason: 'unresolved',
      retryAfterSeconds: secondsUntil(settledAt, 3600),
      operationId: pending.operationId,
    };
  // Abandoned long enough ago that reconciliation can judge it: this key may take over and reconcile it first.
  return { busy: false, pending };
};

/**
 * The slow path: reads the target (or takes the record already read), judges it, and takes the lease on the condition
 * that nothing moved in between. An unresolved attempt stays on the item: the caller must reconcile it.
 */
export const acquireLease = async (lease: Lease, known?: TargetRecord | null): Promise<Busy | Acquired> => {
  for (let round = 0; round < 3; round += 1) {
    const record = round === 0 && known !== undefined ? (known ?? undefined) : await readTarget(lease.targetId);
    const live = record !== undefined && record.expiration >= nowSeconds() ? record : undefined;
    const verdict = judge(live, lease.holder);
    if (verdict.busy) return verdict;
    try {
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: key(lease.targetId),
          UpdateExpression:
            live === undefined
              ? 'SET holder = :holder, leaseToken = :token, leaseExpiresAt = :until, version = :version, expiration = :expiration REMOVE pending'
              : 'SET holder = :holder, leaseToken = :token, leaseExpiresAt = :until, version = :version, expiration = :expiration',
          ConditionExpression:
            live === undefined ? 'attribute_not_exists(#id) OR #expiration < :now' : 'version = :seen',
          ExpressionAttributeNames:
            live === undefined ? { '#id': IDEMPOTENCY_TABLE.partitionKey, '#expiration': 'expiration' } : undefined,
          ExpressionAttributeValues: {
            ':holder': lease.holder,
            ':token': lease.token,
            ':until': lease.expiresAt,
            ':version': randomUUID(),
            ':expiration': keyExpiration(),
            ...(live === undefined ? { ':now': nowSeconds() } : { ':seen': live.version }),
          },
        }),
      );
      return { busy: false, lease, pending: verdict.pending, lastEffect: live?.lastEffect };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw storeUnavailable(error, 'The target lease');
      // Someone else wrote the target between the read and the write: judge it again.
    }
  }
  return { busy: true, reason: 'leased', retryAfterSeconds: 1 };
};

/** Raised when this execution no longer holds its lease (it outlived its invocation and another took over). */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/**
 * Records, right before the write goes out, that it is being sent: conditional on still holding a live lease, so an
 * execution resumed after its deadline cannot send after another execution took over.
 */
export const markSent = async (lease: Lease, pending: PendingAttempt): Promise<void> => {
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key(lease.targetId),
        UpdateExpression: 'SET pending = :pending, version = :version',
        ConditionExpression: 'leaseToken = :token AND leaseExpiresAt > :nowMs',
        ExpressionAttributeValues: {
          ':pending': pending,
          ':version': randomUUID(),
          ':token': lease.token,
          ':nowMs': Date.now(),
        },
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException)
      throw new LeaseLostError('the target lease was taken over before the write was sent');
    throw storeUnavailable(error);
  }
};

/**
 * The Update that gives the target back (inside the transaction that saves the answer): conditional on still holding
 * the lease, so a late save of an execution that outlived its invocation fails instead of overwriting. `resolved`
 * clears the unresolved attempt (the outcome is known); otherwise it stays for reconciliation.
 */
export const releaseUpdate = (lease: Lease, resolved: boolean, effect?: KnownEffect): Update => ({
  TableName: tableName(),
  Key: marshall(key(lease.targetId)),
  UpdateExpression: `SET version = :version${effect === undefined ? '' : ', lastEffect = :effect'} REMOVE holder, leaseToken, leaseExpiresAt${resolved ? ', pending' : ''}`,
  ConditionExpression: 'leaseToken = :token',
  ExpressionAttributeValues: marshall({
    ':version': randomUUID(),
    ':token': lease.token,
    ...(effect === undefined ? {} : { ':effect': effect }),
  }),
});

/** The Update that clears another key's unresolved attempt once its verdict is recorded (within this lease). */
export const clearPendingUpdate = (lease: Lease, pending: PendingAttempt, applied: boolean): Update => ({
  TableName: tableName(),
  Key: marshall(key(lease.targetId)),
  UpdateExpression: `SET version = :version${applied ? ', lastEffect = :effect' : ''} REMOVE pending`,
  ConditionExpression: 'leaseToken = :token AND pending.keyId = :keyId AND pending.attempt = :attempt',
  ExpressionAttributeValues: marshall({
    ':version': randomUUID(),
    ':token': lease.token,
    ':keyId': pending.keyId,
    ':attempt': pending.attempt,
    ...(applied ? { ':effect': { operationId: pending.operationId, atMs: pending.sentAtMs } } : {}),
  }),
});
