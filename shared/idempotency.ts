/**
 * Powertools idempotency, configured for the gateway's contract:
 * - the key is the caller's Idempotency-Key scoped by caller identity (hashed together) and by operation
 *   (the key prefix), so two callers never share a record;
 * - the payload hash covers the validated input, so the same key with another request is a 422;
 * - `makeIdempotent` wraps an inner function rather than the middy middleware, which in 2.35.0 can delete
 *   records it never acquired (upstream issue #5675);
 * - a replay is marked through `responseHook` so the handler can send `Idempotent-Replayed: true`;
 * - the final write carries the execution's audit entry in the same transaction (`idempotency-client.ts`).
 */
import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { config } from './config.js';
import { idempotencyClient, withFinalWrite } from './idempotency-client.js';
import type { OperationDefinition } from './operations/definition.js';
import { type RequestMeta, type StoredResponse, runOperation } from './operations/run.js';

export interface IdempotentRequest<Input> {
  /** Hashed into the idempotency key. */
  scope: { caller: string; key: string };
  /** Hashed for payload validation. */
  input: Input;
  /** Neither: where the request came from. */
  meta: RequestMeta;
}

export type IdempotentResult = StoredResponse & { replayed?: true };

/** Logged and recorded instead of the key itself: keys may carry customer references. */
export const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export const idempotencyKeyPrefix = (definition: Pick<OperationDefinition, 'name'>): string => `sim-cancel-gateway.${definition.name}`;

export const createIdempotentRunner = <Input extends Record<string, unknown>>(definition: OperationDefinition<Input>) => {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName: config().IDEMPOTENCY_TABLE_NAME, awsSdkV3Client: idempotencyClient });
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'scope',
    payloadValidationJmesPath: 'input',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: config().IDEMPOTENCY_TTL_SECONDS,
    responseHook: (response) => ({ ...(response as Record<string, unknown>), replayed: true }),
  });
  const run = makeIdempotent(
    async (request: IdempotentRequest<Input>): Promise<StoredResponse> => runOperation(definition, request.input, request.scope, request.meta),
    { persistenceStore, config: idempotencyConfig, keyPrefix: idempotencyKeyPrefix(definition) },
  );
  return async (request: IdempotentRequest<Input>, context: Context): Promise<IdempotentResult> => {
    // Lets Powertools expire an in-progress record when this invocation would have timed out.
    idempotencyConfig.registerLambdaContext(context);
    return (await withFinalWrite(() => run(request))) as IdempotentResult;
  };
};
