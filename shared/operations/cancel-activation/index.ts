/**
 * sTN: cancel a pending new-subscription activation (POST /api/CancelNewSubscription). sTN completes the
 * cancellation later: while it reports CANCELLING the gateway answers `status: "in_progress"`.
 */
import { config } from '../../config.js';
import { clientOf } from '../../providers/provider.js';
import { stn } from '../../providers/stn/provider.js';
import {
  type Activation,
  PENDING_STATUSES,
  activationSchema,
  providerEnvironment,
} from '../../providers/stn/schemas.js';
import { defineOperation } from '../definition.js';
import { outcomeProblem } from '../pipeline/answer.js';
import { cancelActivationContract } from './contract.js';

export { NOTE_MAX_UTF16_UNITS } from './contract.js';

/** CANCELLING, or any later cancelled state sTN may add (it documents none). */
const CANCELLED_STATUS = /^CANCEL/;
/** What a CANCELLING activation may settle to when cancelled: sTN documents no such value, so both spellings. */
const SETTLED_CANCELLED = /^CANCEL+ED$/;

/** CANCELLING: accepted, completed by sTN later. Anything else sTN answers with a 200 is taken as done. */
const activationDetails = (activation: Activation) => ({
  activationStatus: activation.status,
  providerEnvironment: providerEnvironment(activation),
});
const statusOf = (activation: Activation) => (activation.status === 'CANCELLING' ? 'in_progress' : 'succeeded');

export const cancelActivation = defineOperation(cancelActivationContract, {
  descriptor: stn,
  isDryRun: (input) => input.dryRun,
  lease: ({ activationId }) => `activation:${activationId}`,
  execute: async ({ activationId, note }, gate) => {
    const gated = await gate.beforeWrite({
      request: { method: 'POST', path: '/api/CancelNewSubscription', body: { activationId, note } },
      observedAt: Date.now(),
    });
    if (!gated.proceed) return gated.outcome;
    const outcome = await (
      await clientOf(stn)
    ).cancelNewSubscription({ activationId, note }, { signal: gate.signal, beforeSend: gated.beforeSend });
    if (outcome.kind !== 'succeeded') return outcome;
    const activation = activationSchema.parse(outcome.upstream.body);
    return { ...outcome, status: statusOf(activation), details: activationDetails(activation) };
  },
  reconcile: async ({ input, previous, signal }) => {
    const observedAt = Date.now();
    const lookup = await (await clientOf(stn)).queryActivation(input.activationId, { signal });
    // Cannot tell yet: the attempt marker stays and the next retry reconciles again.
    if (!lookup.ok) throw outcomeProblem(lookup.outcome);
    const activation = lookup.activation;
    if (activation === null)
      return { verdict: 'ambiguous', observed: { activationId: input.activationId, found: false } };
    if (CANCELLED_STATUS.test(activation.status)) {
      // Cancelled by an earlier request before this attempt was sent: sTN refuses a second cancel, so it had no effect.
      if (previous.effectBefore)
        return {
          verdict: 'rejected',
          upstream: { status: lookup.upstream.status, body: activation },
          message: `The activation was already ${activation.status} before this request was sent; it can no longer be cancelled`,
        };
      return {
        verdict: 'applied',
        upstream: { status: lookup.upstream.status, body: activation },
        status: statusOf(activation),
        details: activationDetails(activation),
      };
    }
    if (PENDING_STATUSES.has(activation.status)) return { verdict: 'absent', observedAt };
    if (activation.status === 'DONE' || activation.status === 'ERROR') {
      return {
        verdict: 'rejected',
        upstream: { status: lookup.upstream.status, body: activation },
        message: `The activation is ${activation.status}; it can no longer be cancelled`,
      };
    }
    return { verdict: 'ambiguous', observed: { activationId: input.activationId, status: activation.status } };
  },
  // CANCELLING is not final: the follow-up asks sTN until the activation is cancelled, failed or completed instead.
  followUpsAfter: ({ status }) =>
    status === 'in_progress'
      ? { kinds: [{ kind: 'settle', firstDelaySeconds: config().FOLLOW_UP_FIRST_DELAY_SECONDS }] }
      : undefined,
  checkFollowUp: async (_kind, { input, signal }) => {
    const lookup = await (await clientOf(stn)).queryActivation(input.activationId, { signal });
    if (!lookup.ok) return { outcome: 'unavailable', observed: { reason: lookup.outcome.kind } };
    const status = lookup.activation?.status ?? null;
    const observed = { activationStatus: status };
    if (status === 'CANCELLING') return { outcome: 'pending', observed };
    if (status !== null && SETTLED_CANCELLED.test(status)) return { outcome: 'final', status: 'succeeded', observed };
    // ERROR: the cancellation failed; DONE: the activation completed instead of being cancelled.
    if (status === 'ERROR' || status === 'DONE') return { outcome: 'final', status: 'failed', observed };
    // Not found, or a status sTN does not document after CANCELLING: recorded and counted, never taken as final.
    return { outcome: 'pending', observed, undocumented: true };
  },
  dryRun: async ({ activationId, note }) => {
    const lookup = await (await clientOf(stn)).queryActivation(activationId);
    if (!lookup.ok) throw outcomeProblem(lookup.outcome);
    const status = lookup.activation?.status ?? null;
    return {
      preview: {
        activationId,
        found: lookup.activation !== null,
        currentStatus: status,
        cancelWouldBeAccepted: status !== null && PENDING_STATUSES.has(status),
        request: {
          method: 'POST',
          path: '/api/CancelNewSubscription',
          body: note === undefined ? { activationId } : { activationId, note },
        },
      },
      upstream: lookup.upstream,
    };
  },
});
