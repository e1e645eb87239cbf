/**
 * One follow-up message, top to bottom: read the operation, skip what is done (a redelivery), hop when not yet due,
 * take the target lease, check the provider, write the check to the record (once: conditional on the check number),
 * then publish what became final or send the next check with backoff. Past the deadline the operation is `stalled`.
 * An operation run as a batch item settles the item (and completes the batch) when it becomes final.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import {
  type FollowUpState,
  type OperationRecord,
  type TimelineEntry,
  followUpUpdate,
  readOperation,
} from '../audit.js';
import { batchItemOf } from '../batches/model.js';
import { settleBatchItem } from '../batches/run-item.js';
import { config } from '../config.js';
import { dynamoDBClient } from '../dynamodb.js';
import { EVENT_SOURCE, outcomeDetailType, publishOutcome, stableEventId } from '../events.js';
import { logger } from '../observability.js';
import type { OperationDefinition } from '../operations/definition.js';
import { count } from '../operations/pipeline/record.js';
import type { Recorder } from '../operations/pipeline/recorder.js';
import { acquireLease, newLease, releaseUpdate, targetId } from '../target-lease.js';
import type { FollowUpObservation } from './definition.js';
import { type FollowUpMessage, backoffSeconds, sendFollowUp } from './schedule.js';

const secondsFromNow = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/** Sends check `check` again `seconds` from now (a hop, a busy target, a record not written yet). */
const later = (message: FollowUpMessage, seconds: number) =>
  sendFollowUp({ ...message, dueAt: secondsFromNow(seconds) });

/** What a check leaves on the record: the follow-up's state, the timeline entry and the changed fields. */
const changeOf = (
  message: FollowUpMessage,
  state: FollowUpState,
  record: OperationRecord,
  observation: FollowUpObservation,
) => {
  const at = new Date().toISOString();
  const overdue = Date.now() >= Date.parse(state.deadlineAt);
  const final = observation.outcome === 'final';
  const stalled = !final && overdue;
  const status = final ? observation.status : stalled ? 'stalled' : undefined;
  const nextDueAt = final || stalled ? null : secondsFromNow(backoffSeconds(message.check));
  const entry: TimelineEntry = {
    at,
    source: `follow-up:${message.followUp}`,
    status: status ?? record.status,
    observed: { check: message.check, outcome: stalled ? 'stalled' : observation.outcome, ...observation.observed },
  };
  return {
    kind: message.followUp,
    check: message.check,
    state: { ...state, checks: message.check, done: final || stalled, nextDueAt },
    entry,
    status,
    refund: final ? observation.refund : undefined,
    esimReturn: final ? observation.esimReturn : undefined,
  };
};

/** Publishes what a check made final: the operation's new status, or the follow-up's own event. */
const publishFinal = (
  definition: OperationDefinition,
  record: OperationRecord,
  change: ReturnType<typeof changeOf>,
  event: string | undefined,
) => {
  const name =
    change.status !== undefined
      ? outcomeDetailType(definition.eventName, change.status)
      : event === undefined
        ? undefined
        : `${definition.eventName} ${event}`;
  if (name === undefined) return Promise.resolve();
  const status = change.status ?? record.status;
  return publishOutcome({
    source: EVENT_SOURCE,
    detailType: name,
    detail: {
      // Stable per operation and what became final, so a consumer can drop a redelivered copy.
      eventId: stableEventId(record.operationId, change.status ?? `${change.kind}:${name}`),
      operationId: record.operationId,
      operation: definition.name,
      status,
      target: record.target,
      caller: record.caller,
      source: change.entry.source,
      httpStatus: record.httpStatus,
      upstream: { status: null, message: null },
      reconciled: false,
      occurredAt: change.entry.at,
    },
  });
};

export const processFollowUp = async (
  definition: OperationDefinition,
  message: FollowUpMessage,
  context: Context,
  recorder: Recorder,
): Promise<void> => {
  const record = await readOperation(message.operationId, { consistent: true });
  const state = record?.followUps?.[message.followUp];
  if (record === undefined || state === undefined) {
    // The answer's save may still be on its way; past the deadline there is nothing to follow.
    if (Date.now() > Date.parse(message.deadlineAt)) {
      logger.error('follow-up dropped: its operation has no follow-up state', { operationId: message.operationId });
      count(definition, 'FollowUpsDropped', { followUp: message.followUp });
      return;
    }
    return later(message, backoffSeconds(message.check));
  }
  // Over: a redelivery, perhaps of a check cut short after its write; its batch item may still have to be settled.
  if (state.done) return settleBatchItem(definition, record);
  if (state.checks >= message.check) {
    // A redelivery of a check already written: change nothing, but make sure its successor was sent.
    if (state.checks === message.check && state.nextDueAt !== null)
      await sendFollowUp({ ...message, check: message.check + 1, dueAt: state.nextDueAt });
    return;
  }
  if (Date.parse(message.dueAt) - Date.now() > 1000) return sendFollowUp(message);

  const checkFollowUp = definition.checkFollowUp;
  if (checkFollowUp === undefined) throw new Error(`${definition.name} has follow-ups but no checkFollowUp`);
  const lease = newLease(
    targetId(definition.provider, definition.lease(record.input)),
    `follow-up:${record.operationId}:${message.followUp}:${message.check}`,
    Date.now() + context.getRemainingTimeInMillis(),
  );
  const taken = await acquireLease(lease);
  if (taken.busy) return later(message, taken.retryAfterSeconds);
  let observation: FollowUpObservation;
  try {
    observation = await checkFollowUp.call(definition, message.followUp, {
      input: record.input,
      record,
      signal: AbortSignal.timeout(Math.max(context.getRemainingTimeInMillis() - 2000, 1000)),
      check: message.check,
      finalCheck: message.check > 1 && backoffSeconds(message.check - 1) >= config().FOLLOW_UP_MAX_DELAY_SECONDS,
    });
  } finally {
    await dynamoDBClient.send(new UpdateItemCommand(releaseUpdate(taken.lease, false)));
  }

  const change = changeOf(message, state, record, observation);
  count(definition, 'FollowUpChecks', { followUp: message.followUp, outcome: change.entry.observed.outcome as string });
  if (observation.outcome === 'pending' && observation.undocumented === true)
    count(definition, 'FollowUpUndocumentedStatus', { followUp: message.followUp });
  if (!(await followUpUpdate(record.operationId, change))) {
    // Written by a concurrent delivery of this check, which settles its batch item; a duplicate of its message may be
    // all SQS keeps, so this one settles it too if that made the operation final (conditional: once).
    if (batchItemOf(record) !== undefined) {
      const written = await readOperation(record.operationId, { consistent: true });
      if (written !== undefined) await settleBatchItem(definition, written);
    }
    return;
  }
  logger.info('follow-up checked', {
    operationId: record.operationId,
    followUp: message.followUp,
    check: message.check,
    outcome: change.entry.observed.outcome,
    status: change.entry.status,
  });
  if (change.status === 'stalled') count(definition, 'FollowUpStalled', { followUp: message.followUp });
  if (observation.outcome === 'final' && observation.metric !== undefined) count(definition, observation.metric);
  if (change.state.done)
    recorder.track(
      publishFinal(definition, record, change, observation.outcome === 'final' ? observation.event : undefined).catch(
        (error: unknown) => {
          logger.error('outcome event not published', { error: error as Error, operationId: record.operationId });
          count(definition, 'EventPublishFailures');
        },
      ),
    );
  // A batch item left in_progress by the operation's answer takes its final status (if this delivery is cut short
  // here, the redelivered message settles it: see above).
  if (change.status !== undefined)
    await settleBatchItem(definition, {
      ...record,
      status: change.status,
      timeline: [...(record.timeline ?? []), change.entry],
    });
  // Sent after the check is written; if this send fails, the redelivered message sends it (see above).
  if (change.state.nextDueAt !== null)
    await sendFollowUp({ ...message, check: message.check + 1, dueAt: change.state.nextDueAt });
};
