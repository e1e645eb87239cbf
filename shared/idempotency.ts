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
import {
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { keyMarkerPut } from './key-markers.js';
import { config } from './config.js';
import { outcomePending } from './errors.js';
import { idempotencyClient, withJoinedWrites } from './idempotency-client.js';
import type { OperationDefinition } from './operations/definition.js';
import { type Execution, type RequestMeta, createExecution } from './operations/pipeline/execution.js';
import { ensureTimeForCall } from './operations/pipeline/gate.js';
import type { Recorder } from './operations/pipeline/recorder.js';
import { type StoredResponse, runOperation } from './operations/run.js';
import { leaseUpdate } from './target-lease.js';

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

export const idempotencyKeyPrefix = (definition: Pick<OperationDefinition, 'name'>): string =>
  `sim-cancel-gateway.${definition.name}`;

export type IdempotentRunner<Input> = (
  request: IdempotentRequest<Input>,
  context: Context,
  recorder: Recorder,
) => Promise<IdempotentResult>;

export const createIdempotentRunner = <Input extends Record<string, unknown>>(
  definition: OperationDefinition<Input>,
): IdempotentRunner<Input> => {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: config().IDEMPOTENCY_TABLE_NAME,
    awsSdkV3Client: idempotencyClient,
  });
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'scope',
    payloadValidationJmesPath: 'input',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: config().IDEMPOTENCY_TTL_SECONDS,
    responseHook: (response) => ({ ...(response as Record<string, unknown>), replayed: true }),
  });
  // The execution travels beside the request (Powertools hashes only `scope` and `input`).
  const run = makeIdempotent(
    async (request: IdempotentRequest<Input> & { execution: Execution }): Promise<StoredResponse> =>
      runOperation(request.execution),
    { persistenceStore, config: idempotencyConfig, keyPrefix: idempotencyKeyPrefix(definition) },
  );
  return async (request, context, recorder) => {
    // Lets Powertools expire an in-progress record when this invocation would have timed out; the lease expires then too.
    idempotencyConfig.registerLambdaContext(context);
    // The framework works on any definition's input: the definition itself is typed where it is written.
    const execution = createExecution(
      definition,
      request,
      context.getRemainingTimeInMillis(),
      recorder,
    ) as unknown as Execution;
    // Nothing is claimed when the invocation cannot see one provider call through to its saved answer.
    ensureTimeForCall(execution);
    execution.joined.start = {
      items: [{ Put: keyMarkerPut(execution.freshMarker) }, { Update: leaseUpdate(execution.lease) }],
    };
    try {
      return (await withJoinedWrites(execution.joined, () => run({ ...request, execution }))) as IdempotentResult;
    } catch (error) {
      // The answer's save (or the key's release) failed after the provider call: say so only if a write went out.
      if (
        error instanceof IdempotencyPersistenceLayerError &&
        /update success|delete record/i.test(error.message) &&
        execution.state.writeSent
      ) {
        throw outcomePending(Math.max(Math.ceil((execution.deadline - Date.now()) / 1000), 1), error, {
          operationId: execution.state.marker?.operationId,
        });
      }
      throw error;
    }
  };
};
