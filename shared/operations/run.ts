/**
 * Runs one execution of an operation under its idempotency key, as named stages:
 *   lease     claim the key's next attempt and the target's lease (or answer 409 target-busy);
 *   execute   the operation's own reads and write, through the gate (reconcile an unresolved attempt first, record
 *             the attempt right before sending, within the invocation's time); then what stays unresolved on the
 *             target is settled;
 *   answer    the outcome as the saved answer, or a thrown problem;
 *   record    metrics, the audit entry and the outcome event; the lease is released with the answer's save.
 * Successes and definitive refusals are returned (the idempotency layer saves and replays them); every other ending
 * is thrown (the key is released and a retry may run).
 */
import { verdictUpdate } from '../key-markers.js';
import { ProblemError } from '../errors.js';
import { LeaseLostError, releaseUpdate } from '../target-lease.js';
import { type StoredResponse, answerFor, statusOf } from './pipeline/answer.js';
import type { Execution } from './pipeline/execution.js';
import { createGate, settleTarget } from './pipeline/gate.js';
import { type LeaseClaim, takeLease } from './pipeline/lease.js';
import { recordFinish, recordProviderCall } from './pipeline/record.js';

export type { StoredResponse } from './pipeline/answer.js';
export { outcomeProblem } from './pipeline/answer.js';

/** The execute stage: the operation's own reads and write, through the gate; or the answer another key settled. */
const execute = async (execution: Execution, claim: LeaseClaim) => {
  const gate = createGate(execution, claim);
  if (claim.settled !== undefined) return { gate, outcome: claim.settled };
  const started = performance.now();
  const outcome = await execution.definition.execute(execution.input, gate);
  recordProviderCall(execution.definition, outcome, performance.now() - started);
  return { gate, outcome };
};

export const runOperation = async (execution: Execution): Promise<StoredResponse> => {
  const { definition, input, state } = execution;
  const target = definition.target(input);
  try {
    const claim = await takeLease(execution);
    const { gate, outcome } = await execute(execution, claim);
    await settleTarget(execution, gate, outcome);
    const answer = answerFor(definition, claim.marker.operationId, target, outcome);
    recordFinish(execution, {
      operationId: claim.marker.operationId,
      target,
      attempt: claim.marker.attempt,
      outcome,
      status: statusOf(outcome),
      httpStatus: answer.response?.statusCode ?? answer.problem?.status ?? 500,
    });
    if (answer.problem !== undefined) throw answer.problem;
    return answer.response;
  } catch (error) {
    if (error instanceof LeaseLostError) {
      // Only an execution that outlived its invocation loses its lease: nothing was sent, a retry has taken over.
      throw new ProblemError(
        'target-busy',
        'This execution ran past its invocation and another took over the target; nothing was sent by it.',
        { retryAfterSeconds: 1, cause: error },
      );
    }
    throw error;
  } finally {
    // Joined to Powertools' final write (the answer's save, or the key's release), conditional on still holding it.
    if (state.leaseHeld) {
      const withRelease =
        state.ownVerdict === undefined ? [] : [verdictUpdate(execution.lease.holder, state.ownVerdict)];
      execution.joined.final = {
        ...execution.joined.final,
        release: releaseUpdate(execution.lease, !state.unresolved, state.effect),
        withRelease,
      };
    }
  }
};
