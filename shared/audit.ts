/**
 * The audit trail: one record per operation in the operations table, with who asked, what, when, each attempt and
 * the provider's answers (bodies are never stored: they may carry profile data; status and message are), and the
 * latest status. Each execution appends its attempt with one update, so retries and reconciliations show; the
 * update is normally written together with the idempotency result (see `idempotency-client.ts`).
 */
import type { Update } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { config } from './config.js';
import { documentClient } from './dynamodb.js';
import { OPERATIONS_TABLE } from './tables.js';

export type OperationStatus = 'succeeded' | 'in_progress' | 'rejected' | 'failed' | 'unknown';

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
  expiresAt: number;
  /** The newest attempt recorded; guards the append (internal, not returned by the API). */
  lastAttempt?: number;
}

export type AuditedOperation = Omit<
  OperationRecord,
  'attempts' | 'expiresAt' | 'createdAt' | 'updatedAt' | 'lastAttempt'
>;

/** The update that appends one attempt (marshalled, so it can go alone or inside a transaction). */
export const attemptUpdate = (record: AuditedOperation, entry: AttemptEntry): Update => {
  const now = entry.at;
  return {
    TableName: config().OPERATIONS_TABLE_NAME,
    Key: marshall({ [OPERATIONS_TABLE.partitionKey]: record.operationId }),
    UpdateExpression:
      'SET #operation = :operation, provider = :provider, #target = :target, caller = :caller, #source = if_not_exists(#source, :source), ' +
      'idempotencyKeyHash = :keyHash, #input = :input, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, #status = :status, ' +
      'httpStatus = :httpStatus, attempts = list_append(if_not_exists(attempts, :empty), :attempt), #expiresAt = if_not_exists(#expiresAt, :expiresAt), ' +
      'lastAttempt = :attemptNumber',
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
      },
      { removeUndefinedValues: true },
    ),
  };
};

export const readOperation = async (operationId: string): Promise<OperationRecord | undefined> => {
  const result = await documentClient.send(
    new GetCommand({
      TableName: config().OPERATIONS_TABLE_NAME,
      Key: { [OPERATIONS_TABLE.partitionKey]: operationId },
    }),
  );
  return result.Item as OperationRecord | undefined;
};
