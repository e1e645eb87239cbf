/**
 * The answer stage: what the caller gets for an outcome. Successes and final refusals (provider rejections, safety
 * guards) become the saved answer; every other outcome is a thrown problem, so the idempotency record is released
 * and a retry may run.
 */
import type { OperationStatus } from '../../audit.js';
import { ProblemError } from '../../errors.js';
import type { OperationDefinition, OperationOutcome } from '../definition.js';

/** A saved answer: what the idempotency table holds and a replay returns. */
export interface StoredResponse {
  statusCode: number;
  body: Record<string, unknown>;
}

/** The problem a caller gets for any outcome other than success. */
export const outcomeProblem = (
  outcome: Exclude<OperationOutcome, { kind: 'succeeded' }>,
  extensions: Record<string, unknown> = {},
): ProblemError => {
  switch (outcome.kind) {
    case 'refused':
      return new ProblemError(outcome.problem.kind, outcome.problem.detail, {
        extensions: { ...outcome.problem.extensions, ...extensions },
        retryAfterSeconds: outcome.problem.retryAfterSeconds,
      });
    case 'rejected':
      return new ProblemError('upstream-rejected', outcome.message, {
        extensions: { ...extensions, ...outcome.details, upstream: outcome.upstream },
      });
    case 'throttled':
      return new ProblemError(
        'upstream-throttled',
        `The provider asked us to slow down; nothing was done. Retry after ${outcome.retryAfterSeconds} s.`,
        {
          retryAfterSeconds: outcome.retryAfterSeconds,
          extensions: { ...extensions, upstream: outcome.upstream },
        },
      );
    case 'not_sent':
      return new ProblemError(
        outcome.credentialsRefused === true ? 'upstream-auth-failed' : 'upstream-unreachable',
        `${outcome.reason}. Nothing was changed at the provider; retrying is safe${outcome.credentialsRefused === true ? ' once the credentials are fixed' : ''}.`,
        { extensions },
      );
    case 'unknown':
      return new ProblemError(
        outcome.timedOut ? 'upstream-timeout' : 'upstream-failed',
        `${outcome.reason}. The provider may or may not have applied the request. Retrying with the same Idempotency-Key is safe: ` +
          'the gateway checks with the provider before sending anything again.',
        { extensions: outcome.upstream === undefined ? extensions : { ...extensions, upstream: outcome.upstream } },
      );
  }
};

export type Answer =
  { response: StoredResponse; problem?: undefined } | { response?: undefined; problem: ProblemError };

export const answerFor = (
  definition: OperationDefinition,
  operationId: string,
  target: string,
  outcome: OperationOutcome,
): Answer => {
  const identity = { operationId, operation: definition.name, target };
  if (outcome.kind === 'succeeded') {
    return {
      response: {
        statusCode: 200,
        body: { ...identity, status: outcome.status ?? 'succeeded', ...outcome.details, upstream: outcome.upstream },
      },
    };
  }
  const problem = outcomeProblem(outcome, identity);
  if (outcome.kind === 'rejected' || outcome.kind === 'refused')
    return { response: { statusCode: problem.status, body: problem.toProblem() } };
  return { problem };
};

/** Whether the outcome settles every attempt on the target: final, or provably without effect. */
export const isResolved = (outcome: OperationOutcome): boolean => outcome.kind !== 'unknown';

export const statusOf = (outcome: OperationOutcome): OperationStatus => {
  if (outcome.kind === 'succeeded') return outcome.status ?? 'succeeded';
  if (outcome.kind === 'rejected' || outcome.kind === 'refused') return 'rejected';
  return outcome.kind === 'unknown' ? 'unknown' : 'failed';
};
