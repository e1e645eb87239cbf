/**
 * The audit trail: one record per operation in the operations table, with who asked, what, when, each attempt and
 * the provider's answers (bodies are never stored: they may carry profile data; status and message are), and the
 * latest status. Each execution appends its attempt with one update, so retries and reconciliations show; the
 * update is normally written together with the idempotency result (see `idempotency-client.ts`).
 */
import { ConditionalCheckFailedException, type Update } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { config } from './config.js';
import { documentClient } from './dynamodb.js';
import { OPERATIONS_TABLE } from './tables.js';

/** `stalled`: a follow-up found the operation still not final at FOLLOW_UP_DEADLINE_SECONDS (a person must look). */
export type OperationStatus = 'succeeded' | 'in_progress' | 'rejected' | 'failed' | 'unknown' | 'stalled';

/** One thing that happened to an operation after its answer: a follow-up's check and what it observed. */
export interface TimelineEntry {
  at: string;
  /** `follow-up:settle`, `follow-up:refund`, `follow-up:esim-return`. */
  source: string;
  /** The operation's status after this entry. */
  status: OperationStatus;
  observed: Record<string, unknown>;
}

/** Where one follow-up stands: how many checks it made, whether it is over, and when the next one is due. */
export interface FollowUpState {
  checks: number;
  done: boolean;
  nextDueAt: string | null;
  /** Past this, a follow-up that is not over makes the operation `stalled`. */
  deadlineAt: string;
}

export type RefundDestination = 'inventory' | 'balance' | 'none';

/** An eSIM Go revoke's refund: what the plan predicted, and what eSIM Go's history shows once checked. */
export interface RefundRecord {
  predicted: RefundDestination;
  confirmed: RefundDestination | null;
  checkedAt: string | null;
  bundle: string;
  assignmentId: string | null;
  revokedAt: string;
}

export interface AttemptEntry {
  attempt: number;
  at: string;
  status: OperationStatus;
  httpStatus: number;
  upstreamStatus: number | null;
  message: string | null;
  reconciled: boolean;
}

export interface OperationRecord {
  operationId: string;
  operation: string;
  provider: string;
  target: string;
  caller: string;
  source: string;
  idempotencyKeyHash: string;
  input: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  status: OperationStatus;
  httpStatus: number;
  attempts: AttemptEntry[];
  /** What happened after the answer (follow-ups), oldest first. */
  timeline?: TimelineEntry[];
  followUps?: Partial<Record<string, FollowUpState>>;
  refund?: RefundRecord;
  /** A revoke that sent the eSIM into eSIM Go's returns process: where it stands. */
  esimReturn?: 'in_returns' | 'back_in_account' | 'gone';
  expiresAt: number;
  /** The newest attempt recorded; guards the append (internal, not returned by the API). */
  lastAttempt?: number;
}

export type AuditedOperation = Omit<
  OperationRecord,
  | 'attempts'
  | 'expiresAt'
  | 'createdAt'
  | 'updatedAt'
  | 'lastAttempt'
  | 'timeline'
  | 'followUps'
  | 'refund'
  | 'esimReturn'
>;

/** What a finished execution starts: follow-ups and the fields they will complete (written once, with the attempt). */
export interface FollowUpStart {
  followUps: Record<string, FollowUpState>;
  refund?: RefundRecord;
  esimReturn?: 'in_returns';
}

/**
 * The history index's partition: one caller's operations on one eSIM or activation (`GET /v1/operations?iccid=`).
 * Keyed on what the target is part of (`iccid:8944…` of `iccid:8944…/bundle:b1`), so every operation on an eSIM,
 * whichever bundle it revoked, is found by its ICCID.
 */
export const callerTarget = (caller: string, target: string): string => `${caller}|${target.split('/')[0] ?? target}`;

/** The update that appends one attempt (marshalled, so it can go alone or inside a transaction). */
export const attemptUpdate = (record: AuditedOperation, entry: AttemptEntry, start?: FollowUpStart): Update => {
  const now = entry.at;
  return {
    TableName: config().OPERATIONS_TABLE_NAME,
    Key: marshall({ [OPERATIONS_TABLE.partitionKey]: record.operationId }),
    UpdateExpression:
      'SET #operation = :operation, provider = :provider, #target = :target, caller = :caller, #source = if_not_exists(#source, :source), ' +
      'idempotencyKeyHash = :keyHash, #input = :input, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, #status = :status, ' +
      'httpStatus = :httpStatus, attempts = list_append(if_not_exists(attempts, :empty), :attempt), #expiresAt = if_not_exists(#expiresAt, :expiresAt), ' +
      'lastAttempt = :attemptNumber, callerTarget = :callerTarget' +
      (start === undefined
        ? ''
        : ', followUps = if_not_exists(followUps, :followUps)' +
          (start.refund === undefined ? '' : ', refund = if_not_exists(refund, :refund)') +
          (start.esimReturn === undefined ? '' : ', esimReturn = if_not_exists(esimReturn, :esimReturn)')),
    // Appending is not idempotent: a write repeated after a lost answer must not record the attempt twice.
    ConditionExpression: 'attribute_not_exists(lastAttempt) OR lastAttempt < :attemptNumber',
    ExpressionAttributeNames: {
      '#operation': 'operation',
      '#target': 'target',
      '#source': 'source',
      '#input': 'input',
      '#status': 'status',
      '#expiresAt': OPERATIONS_TABLE.ttlAttribute,
    },
    ExpressionAttributeValues: marshall(
      {
        ':operation': record.operation,
        ':provider': record.provider,
        ':target': record.target,
        ':caller': record.caller,
        ':source': record.source,
        ':keyHash': record.idempotencyKeyHash,
        ':input': record.input,
        ':now': now,
        ':status': record.status,
        ':httpStatus': record.httpStatus,
        ':empty': [],
        ':attempt': [entry],
        ':attemptNumber': entry.attempt,
        ':expiresAt': Math.floor(Date.parse(now) / 1000) + config().OPERATIONS_RETENTION_DAYS * 86_400,
        ':callerTarget': callerTarget(record.caller, record.target),
        ...(start === undefined
          ? {}
          : {
              ':followUps': start.followUps,
              ...(start.refund === undefined ? {} : { ':refund': start.refund }),
              ...(start.esimReturn === undefined ? {} : { ':esimReturn': start.esimReturn }),
            }),
      },
      { removeUndefinedValues: true },
    ),
  };
};

export const readOperation = async (
  operationId: string,
  options: { consistent?: boolean } = {},
): Promise<OperationRecord | undefined> => {
  const result = await documentClient.send(
    new GetCommand({
      TableName: config().OPERATIONS_TABLE_NAME,
      Key: { [OPERATIONS_TABLE.partitionKey]: operationId },
      ConsistentRead: options.consistent,
    }),
  );
  return result.Item as OperationRecord | undefined;
};

/** What one follow-up check changes on the record. */
export interface FollowUpChange {
  kind: string;
  check: number;
  state: FollowUpState;
  entry: TimelineEntry;
  status?: OperationStatus;
  refund?: RefundRecord;
  esimReturn?: OperationRecord['esimReturn'];
}

/**
 * Appends a check's timeline entry and moves its follow-up on: conditional on this check not having been written
 * (a redelivered follow-up changes nothing twice) and on the follow-up not being over.
 */
export const followUpUpdate = async (operationId: string, change: FollowUpChange): Promise<boolean> => {
  const sets = [
    'timeline = list_append(if_not_exists(timeline, :empty), :entry)',
    'followUps.#kind = :state',
    'updatedAt = :now',
    ...(change.status === undefined ? [] : ['#status = :status']),
    ...(change.refund === undefined ? [] : ['refund = :refund']),
    ...(change.esimReturn === undefined ? [] : ['esimReturn = :esimReturn']),
  ];
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: config().OPERATIONS_TABLE_NAME,
        Key: { [OPERATIONS_TABLE.partitionKey]: operationId },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'followUps.#kind.checks < :check AND followUps.#kind.done = :false',
        ExpressionAttributeNames: {
          '#kind': change.kind,
          ...(change.status === undefined ? {} : { '#status': 'status' }),
        },
        ExpressionAttributeValues: {
          ':empty': [],
          ':entry': [change.entry],
          ':state': change.state,
          ':now': change.entry.at,
          ':check': change.check,
          ':false': false,
          ...(change.status === undefined ? {} : { ':status': change.status }),
          ...(change.refund === undefined ? {} : { ':refund': change.refund }),
          ...(change.esimReturn === undefined ? {} : { ':esimReturn': change.esimReturn }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};
