/**
 * The record stage: the operation's metrics, its audit entry (joined to the idempotency layer's final write) and its
 * outcome event (tracked by the invocation's recorder). Neither record may change the caller's answer.
 */
import type { Update } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type FollowUpStart, type OperationStatus, attemptUpdate } from '../../audit.js';
import type { BatchItemRef } from '../../batches/model.js';
import { config } from '../../config.js';
import type { PlannedFollowUps } from '../../follow-ups/definition.js';
import { type FollowUpKind, sendFollowUp } from '../../follow-ups/schedule.js';
import { EVENT_SOURCE, outcomeDetailType, publishOutcome, stableEventId } from '../../events.js';
import { logger, metrics } from '../../observability.js';
import type { OperationDefinition, OperationOutcome } from '../definition.js';
import type { Execution } from './execution.js';

export const count = (definition: OperationDefinition, name: string, dimensions: Record<string, string> = {}) => {
  const metric = metrics.singleMetric();
  metric.addDimensions({ operation: definition.name, provider: definition.provider, ...dimensions });
  metric.addMetric(name, MetricUnit.Count, 1);
  return metric;
};

export const recordProviderCall = (
  definition: OperationDefinition,
  outcome: OperationOutcome,
  elapsedMs: number,
): void => {
  count(definition, 'ProviderCalls', { outcome: outcome.kind });
  // Its own single metric: a single metric flushes after its first value, so a second one added to it would go out
  // with the service dimension alone, and the dashboard's latency graphs (by operation, provider, outcome) stay empty.
  const latency = metrics.singleMetric();
  latency.addDimensions({ operation: definition.name, provider: definition.provider, outcome: outcome.kind });
  latency.addMetric('ProviderLatency', MetricUnit.Milliseconds, elapsedMs);
  // A 403 can mean a wrong API key as much as a real refusal: counted apart so it can be alarmed on.
  if ('upstream' in outcome && outcome.upstream?.status === 403) count(definition, 'ProviderForbidden');
  if (outcome.kind === 'unknown') count(definition, 'UnknownOutcomes');
};

const upstreamSummary = (outcome: OperationOutcome): { status: number | null; message: string | null } => {
  const upstream = 'upstream' in outcome ? outcome.upstream : undefined;
  const message =
    outcome.kind === 'rejected'
      ? outcome.message
      : outcome.kind === 'unknown' || outcome.kind === 'not_sent'
        ? outcome.reason
        : outcome.kind === 'refused'
          ? outcome.problem.kind
          : null;
  return { status: upstream?.status ?? null, message };
};

const FAILURES = {
  audit: ['audit record not written', 'AuditWriteFailures'],
  event: ['outcome event not published', 'EventPublishFailures'],
  'follow-up': ['follow-up not sent: the operation will not be checked again', 'FollowUpSendFailures'],
} as const;

const reportFailure =
  (definition: OperationDefinition, what: keyof typeof FAILURES, operationId: string) => (error: unknown) => {
    logger.error(FAILURES[what][0], { error: error as Error, operationId });
    count(definition, FAILURES[what][1]);
  };

/**
 * Hands the audit entry to the final write (the idempotency client writes it in the same transaction, or on its own)
 * and publishes the outcome event through the recorder.
 */
export const recordFinish = (
  execution: Execution,
  facts: {
    operationId: string;
    target: string;
    attempt: number;
    outcome: OperationOutcome;
    status: OperationStatus;
    httpStatus: number;
  },
): void => {
  const { definition } = execution;
  const at = new Date().toISOString();
  const upstream = upstreamSummary(facts.outcome);
  const reconciled = facts.outcome.kind !== 'refused' && facts.outcome.details?.reconciled === true;
  const planned = definition.followUpsAfter?.({
    input: execution.input,
    status: facts.status,
    details: facts.outcome.kind === 'refused' ? undefined : facts.outcome.details,
    answeredAt: at,
  });
  const start = planned === undefined ? undefined : followUpStart(planned, at);
  const update = attemptUpdate(
    {
      operationId: facts.operationId,
      operation: definition.name,
      provider: definition.provider,
      target: facts.target,
      caller: execution.scope.caller,
      source: execution.meta.source,
      idempotencyKeyHash: execution.meta.keyHash,
      input: execution.input,
      status: facts.status,
      httpStatus: facts.httpStatus,
    },
    {
      attempt: facts.attempt,
      at,
      status: facts.status,
      httpStatus: facts.httpStatus,
      upstreamStatus: upstream.status,
      message: upstream.message,
      reconciled,
    },
    start,
  );
  execution.joined.final = {
    ...execution.joined.final,
    audit: {
      update: execution.meta.batch === undefined ? update : withBatchItem(update, execution.meta.batch),
      onSeparateFailure: reportFailure(definition, 'audit', facts.operationId),
    },
  };
  execution.recorder.track(
    publishOutcome({
      source: EVENT_SOURCE,
      detailType: outcomeDetailType(definition.eventName, facts.status),
      detail: {
        eventId: stableEventId(facts.operationId, facts.status),
        operationId: facts.operationId,
        operation: definition.name,
        status: facts.status,
        target: facts.target,
        caller: execution.scope.caller,
        source: execution.meta.source,
        httpStatus: facts.httpStatus,
        upstream,
        reconciled,
        occurredAt: at,
      },
    }).catch(reportFailure(definition, 'event', facts.operationId)),
  );
  if (start !== undefined)
    execution.recorder.track(
      Promise.all(
        Object.entries(start.followUps).map(([kind, state]) =>
          sendFollowUp({
            followUp: kind as FollowUpKind,
            operation: definition.name,
            operationId: facts.operationId,
            check: 1,
            dueAt: state.nextDueAt as string,
            deadlineAt: state.deadlineAt,
          }),
        ),
      )
        .then(() => undefined)
        .catch(reportFailure(definition, 'follow-up', facts.operationId)),
    );
};

/**
 * The audit update that also names the batch item the operation runs (`batch`, written once): its follow-up settles
 * the item from it (shared/batches/run-item.ts).
 */
const withBatchItem = (update: Update, batch: BatchItemRef): Update => {
  // One more SET: attemptUpdate's expression is a single SET clause. Were it not, the audit entry goes as it is (the
  // answer's save must not fail over it), logged: its follow-up could then not settle the item.
  const expression = update.UpdateExpression ?? '';
  if (!expression.startsWith('SET ') || /\b(REMOVE|ADD|DELETE)\b/.test(expression)) {
    logger.error('audit update is not a single SET clause: the batch item is not recorded on it', { ...batch });
    return update;
  }
  return {
    ...update,
    UpdateExpression: `${update.UpdateExpression}, #batch = if_not_exists(#batch, :batch)`,
    ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#batch': 'batch' },
    ExpressionAttributeValues: {
      ...update.ExpressionAttributeValues,
      ...marshall({ ':batch': { batchId: batch.batchId, index: batch.index } }),
    },
  };
};

/** The follow-ups' first state: the first check after its delay, the deadline FOLLOW_UP_DEADLINE_SECONDS away. */
const followUpStart = (planned: PlannedFollowUps, at: string): FollowUpStart => {
  const after = (seconds: number) => new Date(Date.parse(at) + seconds * 1000).toISOString();
  return {
    followUps: Object.fromEntries(
      planned.kinds.map(({ kind, firstDelaySeconds }) => [
        kind,
        {
          checks: 0,
          done: false,
          nextDueAt: after(firstDelaySeconds),
          deadlineAt: after(Math.max(config().FOLLOW_UP_DEADLINE_SECONDS, firstDelaySeconds + 1)),
        },
      ]),
    ),
    refund: planned.refund,
    esimReturn: planned.esimReturn,
  };
};
