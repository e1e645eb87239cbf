/**
 * Every error the gateway can answer, as RFC 9457 problem types. This catalogue is the one place that says
 * which status and title each problem has; handlers throw `ProblemError`s and `toProblem` maps anything
 * else (Powertools idempotency errors, unexpected failures) onto the catalogue.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyInconsistentStateError,
  IdempotencyItemNotFoundError,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import type * as z from './zod.js';

export const PROBLEM_TYPE_BASE = 'https://sim-cancel-gateway.dev/problems/';

export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'idempotency-key-missing': { status: 400, title: 'Idempotency-Key header is required' },
  'not-found': { status: 404, title: 'Not found' },
  'idempotency-key-in-flight': { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  'reconciliation-needed': {
    status: 409,
    title: 'The outcome of an earlier attempt cannot be established; nothing was sent again',
  },
  'target-busy': { status: 409, title: 'Another request is working on this eSIM or activation; nothing was sent' },
  'batch-not-ready': { status: 409, title: 'The batch cannot do that in its current status' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be application/json' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key was already used with a different request' },
  'upstream-rejected': { status: 422, title: 'The provider rejected the request' },
  'esim-return-risk': { status: 422, title: 'The revoke would hand the eSIM back to eSIM Go' },
  'internal-error': { status: 500, title: 'Internal error' },
  'upstream-failed': { status: 502, title: 'The provider failed or answered something unexpected' },
  'upstream-unreachable': { status: 502, title: 'The provider could not be reached; nothing was sent' },
  'upstream-auth-failed': { status: 502, title: "The provider refused the gateway's credentials; nothing was done" },
  'upstream-throttled': { status: 503, title: 'The provider is throttling requests' },
  'dependency-unavailable': { status: 503, title: 'A dependency of the gateway is unavailable; nothing was sent' },
  'outcome-pending': {
    status: 503,
    title:
      'The provider may have applied the request, but its answer could not be recorded; retry with the same Idempotency-Key',
  },
  'time-budget-exhausted': {
    status: 503,
    title: 'Too little of the invocation was left to call the provider safely; nothing was sent',
  },
  'upstream-timeout': { status: 504, title: 'The provider did not answer in time; the outcome is unknown' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEMS;

export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export interface ProblemOptions {
  /** Extra members of the problem body (RFC 9457 extensions), e.g. `errors` or `upstream`. */
  extensions?: Record<string, unknown>;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly extensions: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    options: ProblemOptions = {},
  ) {
    super(`${kind}: ${detail}`, { cause: options.cause });
    this.extensions = options.extensions ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return PROBLEMS[this.kind].status;
  }

  toProblem(): ProblemDetails {
    return {
      type: `${PROBLEM_TYPE_BASE}${this.kind}`,
      title: PROBLEMS[this.kind].title,
      status: this.status,
      detail: this.detail,
      ...this.extensions,
    };
  }
}

/** `path: message; path: message`: how field errors read in one line (a problem's `detail`, an error message). */
export const describeFieldErrors = (errors: readonly FieldError[]): string =>
  errors.map((error) => `${error.path}: ${error.message}`).join('; ');

export const invalidRequest = (errors: FieldError[]): ProblemError =>
  new ProblemError('invalid-request', describeFieldErrors(errors), {
    extensions: { errors },
  });

/** How zod issues are named as field errors. Each input's wording is part of its contract: pick, never change. */
export interface IssueNaming {
  /** The path of an issue about the whole value (zod's empty path): `body` for HTTP, `message` for queue records. */
  root: string;
  /**
   * Unknown fields of a strict object: `each` names every field in its own error (`dryrun: is not a known field`,
   * the HTTP contract); `listed` gives one error at the object (`input: has unknown fields a, b`, queue records).
   */
  unknownFields?: 'each' | 'listed';
}

/** The one mapping from zod issues to field errors (HTTP requests, queue messages and bus events, path parameters). */
export const fieldErrorsFromIssues = (
  issues: readonly z.core.$ZodIssue[],
  { root, unknownFields = 'each' }: IssueNaming,
): FieldError[] =>
  issues.flatMap((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : root;
    if (issue.code !== 'unrecognized_keys') return [{ path, message: issue.message }];
    if (unknownFields === 'listed') return [{ path, message: `has unknown fields ${issue.keys.join(', ')}` }];
    return issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'is not a known field' }));
  });

/** The 400 for input zod refused, every issue named. */
export const invalidInput = (issues: readonly z.core.$ZodIssue[], naming: IssueNaming): ProblemError =>
  invalidRequest(fieldErrorsFromIssues(issues, naming));

/** The provider may have applied the write and the answer was not recorded: only a retry with the same key is safe. */
export const outcomePending = (
  retryAfterSeconds: number,
  cause?: unknown,
  extensions: Record<string, unknown> = {},
): ProblemError =>
  new ProblemError(
    'outcome-pending',
    'The request may have been applied by the provider, but the gateway could not record the answer. Retry with the same Idempotency-Key after the ' +
      'indicated delay: the gateway then checks with the provider before sending anything again. Do not send it with a new key.',
    { retryAfterSeconds, cause, extensions },
  );

/** The answer when an earlier attempt's effect cannot be established: final for the client, a person must look. */
export const needsReconciliation = (observed: Record<string, unknown>, operationId: string): ProblemError =>
  new ProblemError(
    'reconciliation-needed',
    'An earlier attempt with this Idempotency-Key may have reached the provider, and what the provider shows now neither proves nor rules out ' +
      'its effect. Nothing was sent again. Check `observed`, then resolve by hand; retries with this key keep answering 409.',
    { extensions: { observed, operationId } },
  );

/** Seconds a client should wait before retrying a key that is still in flight. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 2;

/** Maps any thrown value to a ProblemError; unexpected errors become a generic 500 that reveals nothing. */
export const toProblemError = (error: unknown): ProblemError => {
  if (error instanceof ProblemError) return error;
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new ProblemError(
      'idempotency-key-in-flight',
      'The first request with this Idempotency-Key has not finished yet; retry after the indicated delay.',
      { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS, cause: error },
    );
  }
  if (error instanceof IdempotencyItemNotFoundError) {
    // The key's record existed when the lock was tried and was gone when read back (an earlier attempt released it
    // in between; seen where the store ignores ALL_OLD, as dynalite does). Nothing was sent; the next try decides.
    return new ProblemError(
      'idempotency-key-in-flight',
      'The state of this Idempotency-Key changed while it was being checked; nothing was sent. Retry after the indicated delay.',
      {
        retryAfterSeconds: 1,
        cause: error,
      },
    );
  }
  if (error instanceof IdempotencyValidationError) {
    return new ProblemError(
      'idempotency-key-reused',
      'This Idempotency-Key was used with a different request payload; use a new key for a new request.',
      { cause: error },
    );
  }
  if (error instanceof IdempotencyPersistenceLayerError || error instanceof IdempotencyInconsistentStateError) {
    // Powertools fails before the call when it cannot take the lock, and after it when it cannot save the result or
    // release the key. After the call the provider may have applied the write: never say "nothing was sent" then.
    const beforeTheCall =
      error instanceof IdempotencyInconsistentStateError || /in progress record/i.test(error.message);
    if (beforeTheCall) {
      return new ProblemError(
        'dependency-unavailable',
        'The idempotency store could not be used, so the provider was not called. Retry with the same key.',
        { retryAfterSeconds: 1, cause: error },
      );
    }
    return outcomePending(1, error);
  }
  return new ProblemError('internal-error', 'An unexpected error occurred. It has been logged.', { cause: error });
};
