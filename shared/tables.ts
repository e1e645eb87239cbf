/** The DynamoDB tables' key schemas, read by the CDK stack, the local runner and the tests alike. */
export const IDEMPOTENCY_TABLE = {
  /** Powertools idempotency's default key attribute. */
  partitionKey: 'id',
  /** Powertools writes the record's expiry (epoch seconds) here; DynamoDB TTL removes it. */
  ttlAttribute: 'expiration',
  /**
   * The providers' rate-limit windows' keys begin so (shared/rate-windows.ts): the functions that only read a provider
   * (the eSIM timeline) may write these items and no others.
   */
  rateWindowPrefix: 'rate#',
} as const;

/** The audit trail: one record per operation, readable by its owner at GET /v1/operations/{operationId}. */
export const OPERATIONS_TABLE = {
  partitionKey: 'operationId',
  /** Epoch seconds after which DynamoDB TTL removes the record (OPERATIONS_RETENTION_DAYS after it was created). */
  ttlAttribute: 'expiresAt',
} as const;

/**
 * The operations table's indexes, newest first by `createdAt`: one caller's operations, and one caller's operations
 * on one target (`callerTarget`, see shared/audit.ts). The history and the refund ledger query them; nothing scans.
 */
export const OPERATIONS_INDEXES = {
  byCaller: { name: 'byCaller', partitionKey: 'caller', sortKey: 'createdAt' },
  byCallerTarget: { name: 'byCallerTarget', partitionKey: 'callerTarget', sortKey: 'createdAt' },
} as const;

/**
 * Bulk cancellations: one item per batch (`sk` = `meta`: its caller, operation, status and counts) and one per batch
 * item (`sk` = `item#000042`: its input, preview, status and operation id), so a batch's items are one Query away.
 */
export const BATCHES_TABLE = {
  partitionKey: 'batchId',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;
