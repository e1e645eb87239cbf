/** Monogoto: cancel the current matching ID of a released eSIM (POST /api/v1/eSIM/cancel). */
import { needsReconciliation } from '../../errors.js';
import { monogoto } from '../../providers/monogoto/provider.js';
import { clientOf } from '../../providers/provider.js';
import { defineOperation } from '../definition.js';
import { cancelEsimContract } from './contract.js';

/** Monogoto's 400 for an eSIM whose state is not `released` (its documented cancel precondition). */
const NOT_RELEASED = /released/i;
const UNVERIFIED_EXPLANATION =
  'The answer to an earlier attempt was lost. Re-sending was refused because the eSIM is no longer released, which is the state a successful ' +
  'cancel leaves; Monogoto has no read API to confirm that the earlier attempt caused it.';

const AMBIGUOUS_EXPLANATION =
  "The eSIM is no longer released, but two lost cancels (this key's and another key's it was checking) could each have caused it; " +
  'Monogoto has no read API to tell which.';

export const cancelEsim = defineOperation(cancelEsimContract, {
  descriptor: monogoto,
  isDryRun: (input) => input.dryRun,
  lease: ({ iccid }) => `iccid:${iccid}`,
  execute: async ({ iccid, matchingId }, gate) => {
    const gated = await gate.beforeWrite({
      request: { method: 'POST', path: '/api/v1/eSIM/cancel', body: { iccid, matchingId } },
      observedAt: Date.now(),
    });
    if (!gated.proceed) return gated.outcome;
    const outcome = await (
      await clientOf(monogoto)
    ).cancelEsim({ iccid, matchingId }, { signal: gate.signal, beforeSend: gated.beforeSend });
    // A re-send refused because the eSIM is no longer released is what a successful earlier cancel leaves behind.
    // Monogoto offers no read to prove it, so the answer says so (verified: false) instead of claiming a rejection.
    // Unless the gateway knows of an effect on this eSIM from before that attempt (then "not released" is explained), or
    // that attempt was itself the check of another key's (then it cannot be told whose effect "not released" shows).
    if (
      gated.resend &&
      !gated.effectBeforeEarlier &&
      outcome.kind === 'rejected' &&
      NOT_RELEASED.test(outcome.message)
    ) {
      if (gated.earlierCheckedAnother)
        return { kind: 'refused', problem: needsReconciliation({ iccid, explanation: AMBIGUOUS_EXPLANATION }, '') };
      return {
        kind: 'succeeded',
        upstream: outcome.upstream,
        details: { reconciled: true, verified: false, explanation: UNVERIFIED_EXPLANATION },
      };
    }
    return outcome;
  },
  // Monogoto has no read API for eSIM state, so the only check is the re-send itself, which is harmless: it only
  // acts on a released eSIM whose current matchingId is this one.
  reconcile: async () => ({ verdict: 'absent', harmlessToResend: true }),
  // After another key's lost cancel on this eSIM: a cancel that succeeds now shows that one did nothing; one refused
  // as not released shows it took effect (as far as Monogoto lets anyone tell).
  // A refusal explained by an effect from before that attempt shows nothing of it: the attempt could only be refused.
  judgeEarlierByOwnWrite: (outcome, earlier) => {
    if (outcome.kind === 'succeeded') return 'absent';
    if (outcome.kind !== 'rejected' || !NOT_RELEASED.test(outcome.message)) return undefined;
    if (earlier.effectBefore) return 'absent';
    return earlier.checkedAnother ? 'ambiguous' : 'applied';
  },
  // Monogoto has no read API for eSIM state, so a dry run can only confirm the input and show the request.
  dryRun: async ({ iccid, matchingId }) => ({
    preview: { request: { method: 'POST', path: '/api/v1/eSIM/cancel', body: { iccid, matchingId } } },
    upstream: null,
  }),
});
