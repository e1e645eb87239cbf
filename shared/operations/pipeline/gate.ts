/**
 * The gate stage: what `execute` calls right before its provider write. It reconciles an unresolved attempt on the
 * target first (this key's lost answer, or another key's abandoned attempt), judging "no effect" only from reads
 * that started after that attempt can no longer land; then it hands the client a `beforeSend` hook that records the
 * attempt durably, within the lease and the invocation's time, right before the request goes out.
 */
import {
  ConditionalCheckFailedException,
  TransactWriteItemsCommand,
  TransactionCanceledException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type RecordedVerdict, storeUnavailable, verdictUpdate } from '../../key-markers.js';
import { config } from '../../config.js';
import { dynamoDBClient } from '../../dynamodb.js';
import { ProblemError, needsReconciliation } from '../../errors.js';
import { logger } from '../../observability.js';
import {
  type KnownEffect,
  type PendingAttempt,
  clearPendingUpdate,
  markSent,
  reconcileWindowMs,
} from '../../target-lease.js';
import type { OperationOutcome, PreviousAttempt, Reconciliation, WriteGate } from '../definition.js';
import { isResolved } from './answer.js';
import { SAVE_RESERVE_MS, type Execution } from './execution.js';
import type { LeaseClaim } from './lease.js';
import { count } from './record.js';

/** If recording the attempt took longer than this, the write is not sent: `sentAt` would understate when it went. */
const MARK_SLACK_MS = 1000;

export const timeBudgetExhausted = (detail: string): ProblemError =>
  new ProblemError('time-budget-exhausted', `${detail} Nothing was sent; retry with the same Idempotency-Key.`, {
    retryAfterSeconds: 1,
  });

/** Refuses to start a provider write the invocation cannot see through to its answer. */
export const ensureTimeForCall = (execution: Execution): void => {
  const remaining = execution.deadline - SAVE_RESERVE_MS - Date.now();
  if (remaining < config().UPSTREAM_TIMEOUT_MS) {
    throw timeBudgetExhausted(
      `Only ${Math.max(remaining, 0)} ms of the invocation were left, less than one provider call may take (UPSTREAM_TIMEOUT_MS=${config().UPSTREAM_TIMEOUT_MS}).`,
    );
  }
};

const asPrevious = (pending: PendingAttempt, own: boolean, lastEffect: KnownEffect | undefined): PreviousAttempt => ({
  operationId: pending.operationId,
  request: pending.request,
  snapshot: pending.snapshot,
  sentAt: pending.sentAt,
  sentAtMs: pending.sentAtMs,
  attempt: pending.attempt,
  own,
  effectBefore: lastEffect !== undefined && lastEffect.atMs < pending.sentAtMs,
  checkedAnother: pending.checkedAnother === true,
});

/**
 * Records another key's verdict on its marker and, unless this execution's own write already replaced it on the
 * target, clears its attempt there, together.
 */
const recordForeignVerdict = async (
  execution: Execution,
  pending: PendingAttempt,
  verdict: RecordedVerdict,
  clear = true,
): Promise<void> => {
  const items = [
    { Update: verdictUpdate(pending.keyId, verdict) },
    ...(clear ? [{ Update: clearPendingUpdate(execution.lease, pending, verdict.verdict === 'applied') }] : []),
  ];
  try {
    await dynamoDBClient.send(new TransactWriteItemsCommand({ TransactItems: items }));
  } catch (error) {
    if (
      error instanceof TransactionCanceledException &&
      error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
    ) {
      // The other key's marker is gone (its lifetime ended): by the expiry rule it is no key any more, so there is no
      // verdict to keep for it; only its attempt may be left to clear from the target.
      if (!clear) return;
      await dynamoDBClient
        .send(new UpdateItemCommand(clearPendingUpdate(execution.lease, pending, verdict.verdict === 'applied')))
        .catch((inner: unknown) => {
          throw storeUnavailable(inner, 'The reconciliation verdict');
        });
      return;
    }
    if ((error as Error).name !== 'UnknownOperationException')
      throw storeUnavailable(error, 'The reconciliation verdict');
    // No transactions (dynalite): the verdict first, so a crash in between leaves the attempt to be judged again.
    try {
      for (const item of items) await dynamoDBClient.send(new UpdateItemCommand(item.Update));
    } catch (inner) {
      if (!(inner instanceof ConditionalCheckFailedException))
        throw storeUnavailable(inner, 'The reconciliation verdict');
    }
  }
  logger.info('reconciled an abandoned attempt of another key', {
    verdict: verdict.verdict,
    operationId: pending.operationId,
  });
};

const recordedVerdict = (verdict: Reconciliation, attempt: number): RecordedVerdict => {
  const at = new Date().toISOString();
  if (verdict.verdict === 'ambiguous') return { attempt, verdict: 'ambiguous', observed: verdict.observed, at };
  if (verdict.verdict === 'applied')
    return {
      attempt,
      verdict: 'applied',
      upstream: verdict.upstream,
      status: verdict.status,
      details: verdict.details,
      at,
    };
  if (verdict.verdict === 'rejected')
    return { attempt, verdict: 'rejected', upstream: verdict.upstream, message: verdict.message, at };
  return { attempt, verdict: 'absent', harmlessToResend: verdict.harmlessToResend, at };
};

export interface Gate extends WriteGate {
  /** This execution re-sends this key's earlier write as the check of its effect: only a final answer settles it. */
  resendIsTheCheck: () => boolean;
  /** Another key's attempt that only this execution's own write can judge (re-sending is the check). */
  deferredForeign: () => PendingAttempt | undefined;
  recordDeferred: (pending: PendingAttempt, verdict: Reconciliation) => Promise<void>;
  /** The earlier attempt as reconciliation sees it (with what was known of the target before it). */
  previousOf: (pending: PendingAttempt) => PreviousAttempt;
}

export const createGate = (execution: Execution, claim: LeaseClaim): Gate => {
  const { definition, state } = execution;
  let pending = claim.pending;
  let deferred: PendingAttempt | undefined;
  let resendIsTheCheck = claim.resend === true;
  const own = () => pending !== undefined && pending.keyId === execution.lease.holder;
  const previousOf = (attempt: PendingAttempt) =>
    asPrevious(attempt, attempt.keyId === execution.lease.holder, claim.lastEffect);
  // Re-sending after another key judged this key's attempt "absent, the re-send is the check": any effect another key
  // has since had on the target explains a refusal.
  let effectBeforeEarlier =
    claim.resend === true &&
    claim.lastEffect !== undefined &&
    claim.lastEffect.operationId !== claim.marker.operationId;
  let earlierCheckedAnother = false;

  const beforeSend = (request: unknown, snapshot: unknown) => async () => {
    ensureTimeForCall(execution);
    const sentAtMs = Date.now();
    const marker = state.marker;
    if (marker === undefined) throw new Error('beforeSend before the lease stage');
    // A write that checks another key's attempt, or re-sends one that did, carries that on: if its answer is lost
    // too, the next check cannot say whose effect it sees.
    const checkedAnother = deferred !== undefined || earlierCheckedAnother;
    await markSent(execution.lease, {
      keyId: execution.lease.holder,
      operation: definition.name,
      operationId: marker.operationId,
      attempt: marker.attempt,
      request,
      snapshot,
      sentAt: new Date(sentAtMs).toISOString(),
      sentAtMs,
      ...(checkedAnother ? { checkedAnother } : {}),
    });
    state.unresolved = true;
    state.writeSent = true;
    if (Date.now() - sentAtMs > MARK_SLACK_MS)
      throw timeBudgetExhausted('Recording the attempt took too long to send it now.');
  };

  return {
    signal: execution.signal,
    pendingAttempt: () => (pending === undefined ? undefined : previousOf(pending)),
    previousOf,
    deferredForeign: () => deferred,
    resendIsTheCheck: () => resendIsTheCheck,
    recordDeferred: async (earlier, verdict) => {
      // This execution's own write replaced the earlier attempt on the target: only the verdict is left to record.
      await recordForeignVerdict(execution, earlier, recordedVerdict(verdict, earlier.attempt), false).catch(
        (error: unknown) => {
          // Only reachable after this execution's own write: its answer stands, the other key keeps reconciling itself.
          logger.error('verdict for another key not recorded', { error: error as Error });
        },
      );
    },
    settlePendingAsApplied: async (evidence) => {
      if (pending === undefined) return undefined;
      if (own()) {
        pending = undefined;
        return { kind: 'succeeded', upstream: evidence.upstream, details: { ...evidence.details, reconciled: true } };
      }
      await recordForeignVerdict(
        execution,
        pending,
        recordedVerdict(
          { verdict: 'applied', upstream: evidence.upstream, details: evidence.details },
          pending.attempt,
        ),
      );
      pending = undefined;
      return undefined;
    },
    beforeWrite: async ({ request, snapshot, observedAt }) => {
      let resend = claim.resend === true;
      if (pending !== undefined) {
        const earlier = pending;
        const ownAttempt = own();
        const verdict = await definition.reconcile({
          input: execution.input,
          previous: previousOf(earlier),
          current: snapshot,
          signal: execution.signal,
        });
        count(definition, 'Reconciliations', { verdict: verdict.verdict, attempt: ownAttempt ? 'own' : 'other-key' });
        logger.info('reconciled an earlier attempt', {
          verdict: verdict.verdict,
          own: ownAttempt,
          previousAttempt: earlier.attempt,
          sentAt: earlier.sentAt,
        });
        if (verdict.verdict === 'ambiguous') {
          if (ownAttempt) {
            throw needsReconciliation(verdict.observed, earlier.operationId);
          }
          throw new ProblemError(
            'target-busy',
            'An earlier attempt on this eSIM or activation, made with another Idempotency-Key, cannot be reconciled from what the provider shows; a person must resolve it. Nothing was sent.',
            {
              retryAfterSeconds: 60,
              extensions: { reason: 'needs-reconciliation' },
            },
          );
        }
        if (verdict.verdict === 'absent') {
          const settledAt = earlier.sentAtMs + reconcileWindowMs();
          const readFrom = verdict.observedAt ?? observedAt;
          if (verdict.harmlessToResend !== true && readFrom < settledAt) {
            const retryAfterSeconds = Math.max(Math.ceil((settledAt - Date.now()) / 1000), 1);
            if (ownAttempt) {
              throw new ProblemError(
                'idempotency-key-in-flight',
                'An earlier attempt with this Idempotency-Key shows no effect yet but may still be in flight at the provider. Nothing was sent again; retry after the indicated delay.',
                { retryAfterSeconds, extensions: { operationId: earlier.operationId } },
              );
            }
            throw new ProblemError(
              'target-busy',
              'An earlier attempt on this eSIM or activation, made with another Idempotency-Key, may still be in flight at the provider. Nothing was sent; retry after the indicated delay.',
              {
                retryAfterSeconds,
                extensions: { reason: 'unresolved' },
              },
            );
          }
        }
        if (ownAttempt) {
          if (verdict.verdict === 'applied') {
            return {
              proceed: false,
              outcome: {
                kind: 'succeeded',
                upstream: verdict.upstream,
                status: verdict.status,
                details: { ...verdict.details, reconciled: true },
              } satisfies OperationOutcome,
            };
          }
          if (verdict.verdict === 'rejected') {
            return {
              proceed: false,
              outcome: {
                kind: 'rejected',
                upstream: verdict.upstream,
                message: verdict.message,
                details: { reconciled: true },
              } satisfies OperationOutcome,
            };
          }
          resend = true;
          resendIsTheCheck = verdict.verdict === 'absent' && verdict.harmlessToResend === true;
          effectBeforeEarlier = previousOf(earlier).effectBefore;
          earlierCheckedAnother = previousOf(earlier).checkedAnother;
        } else if (verdict.verdict === 'absent' && verdict.harmlessToResend === true) {
          // The provider offers no read: this execution's own write will tell whether the earlier one took effect. Until
          // it has, that key's verdict is "cannot tell": its attempt is replaced on the target by this one's, and should
          // this execution end before judging it, a person must look rather than anyone guess.
          await recordForeignVerdict(
            execution,
            earlier,
            recordedVerdict(
              { verdict: 'ambiguous', observed: { checkedBy: claim.marker.operationId } },
              earlier.attempt,
            ),
            false,
          );
          deferred = earlier;
        } else {
          await recordForeignVerdict(execution, earlier, recordedVerdict(verdict, earlier.attempt));
        }
        pending = undefined;
      }
      return {
        proceed: true,
        resend,
        beforeSend: beforeSend(request, snapshot),
        effectBeforeEarlier,
        earlierCheckedAnother,
      };
    },
  };
};

/**
 * Another key's earlier attempt that this execution's own write was the check for, judged by that write's outcome.
 * Undecided (this write's own answer lost, or a refusal that says nothing of it): which of the two took effect can no
 * longer be told, so it is recorded as needing a person rather than guessed.
 */
const judgeDeferred = (execution: Execution, outcome: OperationOutcome, earlier: PreviousAttempt): Reconciliation => {
  const judged = execution.definition.judgeEarlierByOwnWrite?.(outcome, earlier);
  if (judged === 'applied')
    return {
      verdict: 'applied',
      upstream: null,
      details: { verified: false, explanation: 'A later request on the same target found the effect of this one.' },
    };
  if (judged === 'absent') return { verdict: 'absent' };
  if (judged === undefined && outcome.kind !== 'unknown') return { verdict: 'absent', harmlessToResend: true };
  return {
    verdict: 'ambiguous',
    observed: {
      checkedBy: execution.state.marker?.operationId,
      explanation:
        'Another request on the same target checked this one with its own write, and that write could not tell whose effect the provider shows.',
    },
  };
};

/**
 * After the outcome: whether the target stays unresolved (its lease is released keeping the attempt for the next
 * reconciliation), and the verdict owed to another key whose attempt this execution's own write was the check for.
 * Unresolved: an earlier attempt was not reconciled, this write may have landed, or this write was the check of an
 * earlier one and got no final answer.
 */
export const settleTarget = async (execution: Execution, gate: Gate, outcome: OperationOutcome): Promise<void> => {
  const { state } = execution;
  const final = outcome.kind === 'succeeded' || outcome.kind === 'rejected' || outcome.kind === 'refused';
  const deferred = gate.deferredForeign();
  state.unresolved =
    gate.pendingAttempt() !== undefined ||
    (state.writeSent && !isResolved(outcome)) ||
    (deferred !== undefined && !state.writeSent) ||
    (gate.resendIsTheCheck() && !final);
  // Any time before the release is earlier than every later attempt's sentAt: the target is serialized.
  if (outcome.kind === 'succeeded' && state.marker !== undefined) {
    state.effect = { operationId: state.marker.operationId, atMs: Date.now() };
    // Saved on the marker with the release too: should this save land after a retry took the key over (a slow
    // write past the deadline), that retry reads it under its lease and answers it instead of sending again.
    state.ownVerdict = {
      attempt: state.marker.attempt,
      verdict: 'applied',
      upstream: outcome.upstream,
      status: outcome.status,
      details: outcome.details,
      at: new Date().toISOString(),
    };
  }
  if (deferred !== undefined && state.writeSent) {
    const verdict = judgeDeferred(execution, outcome, gate.previousOf(deferred));
    if (verdict.verdict === 'applied') state.effect = { operationId: deferred.operationId, atMs: deferred.sentAtMs };
    await gate.recordDeferred(deferred, verdict);
  }
};
