/**
 * Runs one execution of an operation under its idempotency key, as named stages:
 *   lease     claim the key's next attempt and the target's lease (or answer 409 target-busy);
 *   execute   the operation's own reads and write, through the gate (reconcile an unresolved attempt first, record
 *             the attempt right before sending, within the invocation's time);
 *   answer    the outcome as the saved answer, or a thrown problem;
 *   record    metrics, the audit entry and the outcome event; the lease is released with the answer's save.
 * Successes and definitive refusals are returned (the idempotency layer saves and replays them); every other ending
 * is thrown (the key is released and a retry may run).
 */
import { toProblemError } from '../errors.js';
import { LeaseLostError, releaseUpdate } from '../target-lease.js';
import type { OperationOutcome, Reconciliation } from './definition.js';
import { type StoredResponse, answerFor, isResolved, statusOf } from './pipeline/answer.js';
import type { Execution } from './pipeline/execution.js';
import { createGate } from './pipeline/gate.js';
import { takeLease } from './pipeline/lease.js';
import { recordFinish, recordProviderCall } from './pipeline/record.js';

export type { StoredResponse } from './pipeline/answer.js';
export { outcomeProblem } from './pipeline/answer.js';

/** The earlier attempt of another key that this execution's own write was the check for, judged by its outcome. */
const judgeDeferred = (execution: Execution, outcome: OperationOutcome): Exclude<Reconciliation, { verdict: 'ambiguous' }> => {
  const judged = execution.definition.judgeEarlierByOwnWrite?.(outcome);
  if (judged === 'applied') return { verdict: 'applied', upstream: null, details: { verified: false, explanation: 'A later request on the same target found the effect of this one.' } };
  if (judged === 'absent') return { verdict: 'absent' };
  return { verdict: 'absent', harmlessToResend: true };
};

export const runOperation = async (execution: Execution): Promise<StoredResponse> => {
  const { definition, input, state } = execution;
  const target = definition.target(input);
  try {
    const claim = await takeLease(execution);
    const marker = claim.marker;

    const gate = createGate(execution, claim);
    const started = performance.now();
    const outcome = claim.settled ?? (await definition.execute(input, gate));
    if (claim.settled === undefined) recordProviderCall(definition, outcome, performance.now() - started);
    const deferred = gate.deferredForeign();
    // The target stays unresolved while an earlier attempt was not reconciled, or this one's write may have landed.
    const final = outcome.kind === 'succeeded' || outcome.kind === 'rejected' || outcome.kind === 'refused';
    state.unresolved =
      gate.pendingAttempt() !== undefined || (state.writeSent && !isResolved(outcome)) || (deferred !== undefined && !state.writeSent) || (gate.resendIsTheCheck() && !final);
    if (deferred !== undefined && state.writeSent) await gate.recordDeferred(deferred, judgeDeferred(execution, outcome));

    const answer = answerFor(definition, marker.operationId, target, outcome);
    recordFinish(execution, {
      operationId: marker.operationId,
      target,
      attempt: marker.attempt,
      outcome,
      status: statusOf(outcome, answer),
      httpStatus: answer.response?.statusCode ?? answer.problem?.status ?? 500,
    });
    if (answer.problem !== undefined) throw answer.problem;
    return answer.response;
  } catch (error) {
    if (error instanceof LeaseLostError) throw toProblemError(error);
    throw error;
  } finally {
    // Joined to Powertools' final write (the answer's save, or the key's release), conditional on still holding it.
    if (state.leaseHeld) execution.joined.final = { ...execution.joined.final, release: releaseUpdate(execution.lease, !state.unresolved) };
  }
};
