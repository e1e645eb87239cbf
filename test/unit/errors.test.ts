import {
  IdempotencyAlreadyInProgressError,
  IdempotencyItemNotFoundError,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { describe, expect, it } from 'vitest';
import { PROBLEMS, PROBLEM_TYPE_BASE, ProblemError, toProblemError } from '../../shared/errors.js';
import { problemResponse } from '../../shared/http/response.js';
import { answerFor } from '../../shared/operations/pipeline/answer.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';

const definition = cancelEsim as unknown as OperationDefinition;

describe('problem mapping', () => {
  it('gives every problem a type URI, title, status and detail', () => {
    for (const kind of Object.keys(PROBLEMS) as Array<keyof typeof PROBLEMS>) {
      const problem = new ProblemError(kind, 'detail').toProblem();
      expect(problem).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}${kind}`,
        title: PROBLEMS[kind].title,
        status: PROBLEMS[kind].status,
        detail: 'detail',
      });
    }
  });

  it('maps Powertools idempotency errors onto the contract', () => {
    expect(toProblemError(new IdempotencyAlreadyInProgressError('x'))).toMatchObject({
      status: 409,
      retryAfterSeconds: expect.any(Number),
    });
    expect(toProblemError(new IdempotencyValidationError('x')).status).toBe(422);
    expect(toProblemError(new IdempotencyItemNotFoundError())).toMatchObject({ status: 409, retryAfterSeconds: 1 });
    const beforeCall = toProblemError(
      new IdempotencyPersistenceLayerError('Failed to save in progress record to idempotency store'),
    );
    expect(beforeCall).toMatchObject({ status: 503, detail: expect.stringContaining('not called') });
    const afterCall = toProblemError(
      new IdempotencyPersistenceLayerError('Failed to update success record to idempotency store'),
    );
    expect(afterCall.detail).not.toContain('not called');
  });

  it('hides unexpected errors behind a generic 500', () => {
    const problem = toProblemError(new TypeError('secret internals at /var/task/index.mjs'));
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem.toProblem())).not.toContain('secret internals');
  });

  it('sends problem+json with Retry-After when there is one', () => {
    const response = problemResponse(new ProblemError('upstream-throttled', 'slow down', { retryAfterSeconds: 5 }));
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'content-type': 'application/problem+json', 'retry-after': '5' });
  });
});

describe('answerFor', () => {
  const upstream = { status: 200, body: {} };

  it('returns successes and rejections (saved and replayed) and throws everything else (retryable)', () => {
    expect(answerFor(definition, 'op_1', 'iccid:1', { kind: 'succeeded', upstream }).response?.statusCode).toBe(200);
    expect(
      answerFor(definition, 'op_1', 'iccid:1', {
        kind: 'rejected',
        upstream: { status: 400, body: { error: 'no' } },
        message: 'no',
      }).response,
    ).toMatchObject({
      statusCode: 422,
      body: { operationId: 'op_1', upstream: { status: 400 } },
    });
    const thrown = (outcome: Parameters<typeof answerFor>[3]) =>
      answerFor(definition, 'op_1', 'iccid:1', outcome).problem?.status;
    expect(thrown({ kind: 'throttled', upstream: { status: 429, body: null }, retryAfterSeconds: 1 })).toBe(503);
    expect(thrown({ kind: 'not_sent', reason: 'ECONNREFUSED' })).toBe(502);
    expect(thrown({ kind: 'unknown', reason: 'timeout', timedOut: true })).toBe(504);
    expect(thrown({ kind: 'unknown', reason: '500', timedOut: false })).toBe(502);
  });
});
