/**
 * Runs an operation's provider call and decides what the caller gets. Successes and definitive rejections
 * are returned (so the idempotency layer saves and replays them); every other ending is thrown (so the key
 * is released and a retry is allowed), as design.md's idempotency contract asks.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ProblemError } from '../errors.js';
import { metrics } from '../observability.js';
import type { OperationDefinition, OperationOutcome } from './definition.js';

/** A saved answer: what the idempotency table holds and a replay returns. */
export interface StoredResponse {
  statusCode: number;
  body: Record<string, unknown>;
}

export const newOperationId = (): string => `op_${randomUUID().replaceAll('-', '')}`;

const recordOutcome = (definition: OperationDefinition, outcome: OperationOutcome, elapsedMs: number): void => {
  const metric = metrics.singleMetric();
  metric.addDimensions({ operation: definition.name, provider: definition.provider, outcome: outcome.kind });
  metric.addMetric('ProviderCalls', MetricUnit.Count, 1);
  metric.addMetric('ProviderLatency', MetricUnit.Milliseconds, elapsedMs);
  // A 403 can mean a wrong API key as much as a real refusal: counted apart so it can be alarmed on.
  if ('upstream' in outcome && outcome.upstream?.status === 403) {
    const forbidden = metrics.singleMetric();
    forbidden.addDimensions({ operation: definition.name, provider: definition.provider });
    forbidden.addMetric('ProviderForbidden', MetricUnit.Count, 1);
  }
};

/** The problem a caller gets for any outcome other than success. */
export const outcomeProblem = (outcome: Exclude<OperationOutcome, { kind: 'succeeded' }>, extensions: Record<string, unknown> = {}): ProblemError => {
  switch (outcome.kind) {
    case 'refused':
      return new ProblemError(outcome.problem.kind, outcome.problem.detail, { extensions: { ...outcome.problem.extensions, ...extensions } });
    case 'rejected':
      return new ProblemError('upstream-rejected', outcome.message, { extensions: { ...extensions, ...outcome.details, upstream: outcome.upstream } });
    case 'throttled':
      return new ProblemError('upstream-throttled', `The provider asked us to slow down; nothing was done. Retry after ${outcome.retryAfterSeconds} s.`, {
        retryAfterSeconds: outcome.retryAfterSeconds,
        extensions: { ...extensions, upstream: outcome.upstream },
      });
    case 'not_sent':
      return new ProblemError(
        outcome.credentialsRefused === true ? 'upstream-auth-failed' : 'upstream-unreachable',
        `${outcome.reason}. Nothing was changed at the provider; retrying is safe${outcome.credentialsRefused === true ? ' once the credentials are fixed' : ''}.`,
        { extensions },
      );
    case 'unknown':
      return new ProblemError(outcome.timedOut ? 'upstream-timeout' : 'upstream-failed', `${outcome.reason}. The provider may or may not have applied the request.`, {
        extensions: outcome.upstream === undefined ? extensions : { ...extensions, upstream: outcome.upstream },
      });
  }
};

/**
 * Successes and final refusals (provider rejections, safety guards) become the saved answer; every other
 * outcome is thrown so the idempotency record is released and a retry may run.
 */
export const outcomeToResponse = (definition: OperationDefinition, operationId: string, outcome: OperationOutcome): StoredResponse => {
  const identity = { operationId, operation: definition.name };
  if (outcome.kind === 'succeeded') {
    return { statusCode: 200, body: { ...identity, status: 'succeeded', ...outcome.details, upstream: outcome.upstream } };
  }
  const problem = outcomeProblem(outcome, identity);
  if (outcome.kind === 'rejected' || outcome.kind === 'refused') return { statusCode: problem.status, body: problem.toProblem() };
  throw problem;
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
