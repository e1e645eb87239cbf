/**
 * Runs an operation's provider call and decides what the caller gets. Successes and definitive rejections
 * are returned (so the idempotency layer saves and replays them); every other ending is thrown (so the key
 * is released and a retry is allowed), as design.md's idempotency contract asks.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ProblemError } from '../errors.js';
import { metrics } from '../observability.js';
import type { ProviderOutcome } from '../providers/outcome.js';
import type { OperationDefinition } from './definition.js';

/** A saved answer: what the idempotency table holds and a replay returns. */
export interface StoredResponse {
  statusCode: number;
  body: Record<string, unknown>;
}

export const newOperationId = (): string => `op_${randomUUID().replaceAll('-', '')}`;

const recordOutcome = (definition: OperationDefinition, outcome: ProviderOutcome, elapsedMs: number): void => {
  const metric = metrics.singleMetric();
  metric.addDimensions({ operation: definition.name, provider: definition.provider, outcome: outcome.kind });
  metric.addMetric('ProviderCalls', MetricUnit.Count, 1);
  metric.addMetric('ProviderLatency', MetricUnit.Milliseconds, elapsedMs);
};

export const outcomeToResponse = (definition: OperationDefinition, operationId: string, outcome: ProviderOutcome): StoredResponse => {
  const identity = { operationId, operation: definition.name };
  switch (outcome.kind) {
    case 'succeeded':
      return { statusCode: 200, body: { ...identity, status: 'succeeded', upstream: outcome.upstream } };
    case 'rejected': {
      const problem = new ProblemError('upstream-rejected', outcome.message, { extensions: { ...identity, upstream: outcome.upstream } });
      return { statusCode: problem.status, body: problem.toProblem() };
    }
    case 'throttled':
      throw new ProblemError('upstream-throttled', `The provider asked us to slow down; nothing was done. Retry after ${outcome.retryAfterSeconds} s.`, {
        retryAfterSeconds: outcome.retryAfterSeconds,
        extensions: { upstream: outcome.upstream },
      });
    case 'not_sent':
      throw new ProblemError('upstream-unreachable', `${outcome.reason}. Nothing reached the provider; retrying is safe.`);
    case 'unknown':
      throw new ProblemError(
        outcome.timedOut ? 'upstream-timeout' : 'upstream-failed',
        `${outcome.reason}. The provider may or may not have applied the request.`,
        outcome.upstream === undefined ? {} : { extensions: { upstream: outcome.upstream } },
      );
  }
};

export const runOperation = async <Input extends Record<string, unknown>>(
  definition: OperationDefinition<Input>,
  input: Input,
): Promise<StoredResponse> => {
  const operationId = newOperationId();
  const started = performance.now();
  const outcome = await definition.execute(input);
  recordOutcome(definition as unknown as OperationDefinition, outcome, performance.now() - started);
  return outcomeToResponse(definition as unknown as OperationDefinition, operationId, outcome);
};
