/**
 * Runs an operation and decides what the caller gets. Successes and definitive refusals are returned (so the
 * idempotency layer saves and replays them); every other ending is thrown (so the key is released and a retry
 * may run). Before the provider write an attempt marker is claimed; if an earlier execution left one, its
 * outcome was lost, and the operation's `reconcile` decides before anything is sent again.
 */
import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type OperationStatus, attemptUpdate } from '../audit.js';
import { claimMarker, markerId, payloadHash, readMarker, releaseMarker, renewMarker } from '../attempts.js';
import { config } from '../config.js';
import { ProblemError } from '../errors.js';
import { recordAuditEntry } from '../idempotency-client.js';
import { EVENT_SOURCE, outcomeDetailType, publishOutcome, stableEventId } from '../events.js';
import { logger, metrics } from '../observability.js';
import type { OperationDefinition, OperationOutcome, PreviousAttempt, WriteGate } from './definition.js';

/** A saved answer: what the idempotency table holds and a replay returns. */
export interface StoredResponse {
  statusCode: number;
  body: Record<string, unknown>;
}

export const newOperationId = (): string => `op_${randomUUID().replaceAll('-', '')}`;

const count = (definition: OperationDefinition, name: string, dimensions: Record<string, string> = {}) => {
  const metric = metrics.singleMetric();
  metric.addDimensions({ operation: definition.name, provider: definition.provider, ...dimensions });
  metric.addMetric(name, MetricUnit.Count, 1);
  return metric;
};

const recordOutcome = (definition: OperationDefinition, outcome: OperationOutcome, elapsedMs: number): void => {
  count(definition, 'ProviderCalls', { outcome: outcome.kind }).addMetric('ProviderLatency', MetricUnit.Milliseconds, elapsedMs);
  // A 403 can mean a wrong API key as much as a real refusal: counted apart so it can be alarmed on.
  if ('upstream' in outcome && outcome.upstream?.status === 403) count(definition, 'ProviderForbidden');
  if (outcome.kind === 'unknown') count(definition, 'UnknownOutcomes');
};

/** The problem a caller gets for any outcome other than success. */
export const outcomeProblem = (outcome: Exclude<OperationOutcome, { kind: 'succeeded' }>, extensions: Record<string, unknown> = {}): ProblemError => {
  switch (outcome.kind) {
    case 'refused':
      return new ProblemError(outcome.problem.kind, outcome.problem.detail, {
        extensions: { ...outcome.problem.extensions, ...extensions },
        retryAfterSeconds: outcome.problem.retryAfterSeconds,
      });
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
      return new ProblemError(
        outcome.timedOut ? 'upstream-timeout' : 'upstream-failed',
        `${outcome.reason}. The provider may or may not have applied the request. Retrying with the same Idempotency-Key is safe: ` +
          'the gateway checks with the provider before sending anything again.',
        { extensions: outcome.upstream === undefined ? extensions : { ...extensions, upstream: outcome.upstream } },
      );
  }
};

/**
 * Successes and final refusals (provider rejections, safety guards) become the saved answer; every other
 * outcome is thrown so the idempotency record is released and a retry may run.
 */
export const outcomeToResponse = (definition: OperationDefinition, operationId: string, target: string, outcome: OperationOutcome): StoredResponse => {
  const identity = { operationId, operation: definition.name, target };
  if (outcome.kind === 'succeeded') {
    return { statusCode: 200, body: { ...identity, status: 'succeeded', ...outcome.details, upstream: outcome.upstream } };
  }
  const problem = outcomeProblem(outcome, identity);
  if (outcome.kind === 'rejected' || outcome.kind === 'refused') return { statusCode: problem.status, body: problem.toProblem() };
  throw problem;
};

/** Turns reconciliation's verdict into what the write gate tells `execute`. */
const settle = async (definition: OperationDefinition, input: Record<string, unknown>, previous: PreviousAttempt, current: unknown) => {
  const verdict = await definition.reconcile({ input, previous, current });
  count(definition, 'Reconciliations', { verdict: verdict.verdict });
  logger.info('reconciled an earlier attempt', { verdict: verdict.verdict, previousAttempt: previous.attempt, sentAt: previous.sentAt });
  switch (verdict.verdict) {
    case 'absent': {
      // "No effect yet" only proves "no effect" once the earlier request can no longer be in flight at the provider.
      const settleMs = config().RECONCILE_AFTER_MS ?? 2 * config().UPSTREAM_TIMEOUT_MS;
      const waitMs = Date.parse(previous.sentAt) + settleMs - Date.now();
      if (verdict.harmlessToResend !== true && waitMs > 0) {
        throw new ProblemError(
          'idempotency-key-in-flight',
          'An earlier attempt with this Idempotency-Key shows no effect yet but may still be in flight at the provider. Nothing was sent again; retry after the indicated delay.',
          { retryAfterSeconds: Math.ceil(waitMs / 1000), extensions: { operationId: previous.operationId } },
        );
      }
      return undefined;
    }
    case 'applied':
      return { kind: 'succeeded', upstream: verdict.upstream, details: { ...verdict.details, reconciled: true } } as const;
    case 'rejected':
      return { kind: 'rejected', upstream: verdict.upstream, message: verdict.message, details: { reconciled: true } } as const;
    case 'ambiguous':
      throw new ProblemError(
        'reconciliation-needed',
        'An earlier attempt with this Idempotency-Key may have reached the provider, and what the provider shows now neither proves nor rules out ' +
          'its effect. Nothing was sent again. Check `observed`, then resolve by hand; retries with this key keep answering 409.',
        { extensions: { observed: verdict.observed, operationId: previous.operationId } },
      );
  }
};

/** Where a request came from and how its key is logged: recorded in the audit trail and outcome events. */
export interface RequestMeta {
  source: string;
  keyHash: string;
}

const statusOf = (outcome: OperationOutcome, response: StoredResponse | undefined): OperationStatus => {
  if (outcome.kind === 'succeeded') return response?.body.status === 'in_progress' ? 'in_progress' : 'succeeded';
  if (outcome.kind === 'rejected' || outcome.kind === 'refused') return 'rejected';
  return outcome.kind === 'unknown' ? 'unknown' : 'failed';
};

const upstreamSummary = (outcome: OperationOutcome): { status: number | null; message: string | null } => {
  const upstream = 'upstream' in outcome ? outcome.upstream : undefined;
  const message = outcome.kind === 'rejected' ? outcome.message : outcome.kind === 'unknown' || outcome.kind === 'not_sent' ? outcome.reason : outcome.kind === 'refused' ? outcome.problem.kind : null;
  return { status: upstream?.status ?? null, message };
};

type FinishFacts = {
  operationId: string;
  target: string;
  caller: string;
  meta: RequestMeta;
  input: Record<string, unknown>;
  attempt: number;
  status: OperationStatus;
  httpStatus: number;
  upstream: { status: number | null; message: string | null };
  reconciled: boolean;
};

const reportRecordFailure = (definition: OperationDefinition, what: 'audit' | 'event', operationId: string) => (error: unknown) => {
  logger.error(what === 'audit' ? 'audit record not written' : 'outcome event not published', { error: error as Error, operationId });
  count(definition, what === 'audit' ? 'AuditWriteFailures' : 'EventPublishFailures');
};

/**
 * Appends the attempt to the audit trail (inside the idempotency layer's final write when there is one, else on its
 * own) and publishes the outcome event. Neither may change the caller's answer.
 */
const recordFinish = async (definition: OperationDefinition, facts: FinishFacts): Promise<void> => {
  const at = new Date().toISOString();
  const audit = attemptUpdate(
    { operationId: facts.operationId, operation: definition.name, provider: definition.provider, target: facts.target, caller: facts.caller, source: facts.meta.source, idempotencyKeyHash: facts.meta.keyHash, input: facts.input, status: facts.status, httpStatus: facts.httpStatus },
    { attempt: facts.attempt, at, status: facts.status, httpStatus: facts.httpStatus, upstreamStatus: facts.upstream.status, message: facts.upstream.message, reconciled: facts.reconciled },
  );
  const auditWrite = recordAuditEntry(audit, reportRecordFailure(definition, 'audit', facts.operationId));
  const event = publishOutcome({
    source: EVENT_SOURCE,
    detailType: outcomeDetailType(definition.eventName, facts.status),
    detail: {
      eventId: stableEventId(facts.operationId, facts.status),
      operationId: facts.operationId,
      operation: definition.name,
      status: facts.status,
      target: facts.target,
      caller: facts.caller,
      source: facts.meta.source,
      httpStatus: facts.httpStatus,
      upstream: facts.upstream,
      reconciled: facts.reconciled,
      occurredAt: at,
    },
  }).catch(reportRecordFailure(definition, 'event', facts.operationId));
  await Promise.all([auditWrite, event]);
};

const pendingRecords: Array<Promise<void>> = [];

/** Waits for the audit records and outcome events of this invocation (they never reject: failures are logged). */
export const settleRecords = async (): Promise<void> => {
  while (pendingRecords.length > 0) await Promise.all(pendingRecords.splice(0));
};

export const runOperation = async <Input extends Record<string, unknown>>(
  definitionOfInput: OperationDefinition<Input>,
  input: Input,
  scope: { caller: string; key: string },
  meta: RequestMeta = { source: 'http', keyHash: '' },
): Promise<StoredResponse> => {
  const definition = definitionOfInput as unknown as OperationDefinition;
  const target = definition.target(input);
  const id = markerId(definition.name, scope);
  const hash = payloadHash(input);
  let operationId = newOperationId();
  let attempt = 1;
  /** This execution wrote the first marker for the key: no earlier attempt can have had an effect. */
  let firstAttempt = false;

  const gate: WriteGate = {
    previousAttempt: async () => readMarker(id),
    beforeWrite: async ({ request, snapshot }) => {
      const marker = { id, operation: definition.name, operationId, payloadHash: hash, target, request, snapshot, sentAt: new Date().toISOString(), attempt };
      const previous = await claimMarker(marker);
      if (previous === undefined) {
        firstAttempt = true;
        return { proceed: true, resend: false };
      }
      if (previous.payloadHash !== hash) {
        throw new ProblemError('idempotency-key-reused', 'This Idempotency-Key was used with a different request payload; use a new key for a new request.');
      }
      operationId = previous.operationId;
      attempt = previous.attempt + 1;
      const settled = await settle(definition, input, previous, snapshot);
      if (settled !== undefined) return { proceed: false, outcome: settled };
      await renewMarker({ ...marker, operationId, attempt });
      return { proceed: true, resend: true };
    },
  };

  const started = performance.now();
  const outcome = await definition.execute(input, gate);
  recordOutcome(definition, outcome, performance.now() - started);
  // Released only when no attempt for this key can have reached the provider; after a lost answer it stays.
  if (firstAttempt && (outcome.kind === 'throttled' || outcome.kind === 'not_sent')) await releaseMarker(id, attempt);
  let response: StoredResponse | undefined;
  let problem: ProblemError | undefined;
  try {
    response = outcomeToResponse(definition, operationId, target, outcome);
  } catch (error) {
    problem = error as ProblemError;
  }
  // Not awaited here: the audit entry joins Powertools' final write (handed over synchronously, before this returns)
  // and the outcome event is published beside it; the handler awaits `settleRecords()` before answering (Lambda must
  // not return with work in flight).
  pendingRecords.push(recordFinish(definition, {
    operationId,
    target,
    caller: scope.caller,
    meta,
    input,
    attempt,
    status: statusOf(outcome, response),
    httpStatus: response?.statusCode ?? problem?.status ?? 500,
    upstream: upstreamSummary(outcome),
    reconciled: outcome.kind !== 'refused' && outcome.details?.reconciled === true,
  }));
  if (problem !== undefined) throw problem;
  return response as StoredResponse;
};
