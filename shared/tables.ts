/** The DynamoDB tables' key schemas, read by the CDK stack, the local runner and the tests alike. */
export const IDEMPOTENCY_TABLE = {
  /** Powertools idempotency's default key attribute. */
  partitionKey: 'id',
  /** Powertools writes the record's expiry (epoch seconds) here; DynamoDB TTL removes it. */
  ttlAttribute: 'expiration',
} as const;
