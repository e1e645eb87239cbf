/**
 * What eSIM Go's two revokes share: the reads before the write (eSIM and bundles, in parallel), the predicted plan,
 * the returns-process guard, the lease on the eSIM, reconciliation by the state of the assignment the plan named, and
 * a dry run from the same reads plus eSIM Go's own `type=validate`. A revoke by name lets eSIM Go pick the
 * assignment (the plan predicts which); a revoke of a named assignment acts on that one.
 */
import { ProblemError } from '../errors.js';
import type { CallOptions } from '../providers/http.js';
import type { EsimGoClient, ReadFailure } from '../providers/esim-go/client.js';
import { esimGo } from '../providers/esim-go/provider.js';
import { type RevokePlan, planRevoke } from '../providers/esim-go/revoke-plan.js';
import type { ProviderOutcome } from '../providers/outcome.js';
import { clientOf } from '../providers/provider.js';
import type { OperationBehaviour, OperationOutcome, WriteGate } from './definition.js';
import { checkRevokeFollowUp, revokeFollowUpsAfter } from './esim-go-follow-ups.js';
import { outcomeProblem } from './pipeline/answer.js';

/** The input both revokes take (the assignment's revoke adds `assignmentId`). */
export interface RevokeInput extends Record<string, unknown> {
  iccid: string;
  name: string;
  assignmentId?: string;
  type: 'validate' | 'transaction';
  dryRun: boolean;
  refundToBalance?: boolean;
  offerId?: string;
  allowEsimReturn: boolean;
}

/** The write: eSIM Go's revoke call for this input (`type=validate` for the dry run). */
type Send<Input> = (
  client: EsimGoClient,
  input: Input,
  type: 'validate' | 'transaction',
  options?: CallOptions,
) => Promise<ProviderOutcome>;

/**
 * Reads the eSIM and its bundles in parallel and predicts the revoke; a failed read ends the operation. `observedAt` is
 * when the reads started: a read answered late may show the state from before a write that landed meanwhile.
 */
const readPlan = async (
  input: RevokeInput,
  signal?: AbortSignal,
): Promise<{ ok: true; plan: RevokePlan; observedAt: number } | { ok: false; outcome: ReadFailure }> => {
  const client = await clientOf(esimGo);
  const observedAt = Date.now();
  const [esim, bundles] = await Promise.all([
    client.getEsim(input.iccid, { signal }),
    client.listBundles(input.iccid, { signal }),
  ]);
  if (!esim.ok) return esim;
  if (!bundles.ok) return bundles;
  return {
    ok: true,
    observedAt,
    plan: planRevoke({
      bundle: input.name,
      assignmentId: input.assignmentId,
      esim: esim.data,
      bundles: bundles.data,
      refundToBalance: input.refundToBalance === true,
      now: Date.now(),
    }),
  };
};

/** The revoke call's parameters: what the write-ahead record keeps and the client sends. */
export const revokeRequest = (input: RevokeInput, type: 'validate' | 'transaction') => ({
  iccid: input.iccid,
  name: input.name,
  ...(input.assignmentId === undefined ? {} : { assignmentId: input.assignmentId }),
  type,
  refundToBalance: input.refundToBalance,
  offerId: input.offerId,
});

/**
 * An eSIM Go 403 on the reads after an earlier revoke whose answer was lost: if that revoke left the eSIM without
 * bundles while not installed, the returns process took it, so the revoke did take effect.
 */
const returnedAfterEarlierRevoke = async (
  failure: ReadFailure,
  gate: WriteGate<RevokePlan>,
): Promise<OperationOutcome | undefined> => {
  if (failure.kind !== 'rejected' || failure.upstream.status !== 403) return undefined;
  const plan = gate.pendingAttempt()?.snapshot;
  if (plan?.esimReturnRisk !== true) return undefined;
  return gate.settlePendingAsApplied({
    upstream: failure.upstream,
    details: {
      plan,
      verified: false,
      explanation:
        'The answer to an earlier revoke was lost; eSIM Go no longer shows the eSIM, which is what its returns process does after that revoke.',
    },
  });
};

const returnRiskProblem = (plan: RevokePlan) =>
  new ProblemError(
    'esim-return-risk',
    `Revoking ${plan.target === null ? plan.bundle : `assignment ${plan.target.id} of ${plan.bundle}`} would leave the eSIM with no bundle while it is not installed (profileStatus ${plan.profileStatus ?? 'unknown'}), ` +
      'so eSIM Go may start its returns process and remove the eSIM from your account. Nothing was revoked. ' +
      'Install the eSIM or add a bundle first, or repeat the request with allowEsimReturn=true (and a new Idempotency-Key) to accept that.',
    { extensions: { plan } },
  );

/** The behaviour of a revoke whose write is `send`. */
export const esimGoRevoke = <Input extends RevokeInput>(send: Send<Input>): OperationBehaviour<Input, RevokePlan> => ({
  descriptor: esimGo,
  isDryRun: (input) => input.dryRun || input.type === 'validate',
  // Per eSIM, not per bundle or assignment: the guard and "oldest unused" depend on every bundle of the eSIM.
  lease: ({ iccid }) => `iccid:${iccid}`,
  execute: async (input, gate) => {
    const read = await readPlan(input, gate.signal);
    if (!read.ok) return (await returnedAfterEarlierRevoke(read.outcome, gate)) ?? read.outcome;
    const { plan } = read;
    // Reconcile before the guard: after a lost but applied revoke, the eSIM has one bundle fewer, and the guard
    // would misread that as a new risk.
    const gated = await gate.beforeWrite({
      request: revokeRequest(input, 'transaction'),
      snapshot: plan,
      observedAt: read.observedAt,
    });
    if (!gated.proceed) return gated.outcome;
    if (plan.esimReturnRisk && !input.allowEsimReturn) return { kind: 'refused', problem: returnRiskProblem(plan) };
    const outcome = await send(await clientOf(esimGo), input, 'transaction', {
      signal: gate.signal,
      beforeSend: gated.beforeSend,
    });
    return { ...outcome, details: { plan } };
  },
  reconcile: async ({ previous, current }) => {
    const before = previous.snapshot;
    const now = current;
    // Both plans exist whenever the gate reconciles: execute hands it the plan it read before every write.
    if (before === undefined || now === undefined)
      return { verdict: 'ambiguous', observed: { reason: 'no plan to compare' } };
    // Nothing was revocable then: eSIM Go would have refused, so sending again cannot revoke anything unexpected.
    if (before.target === null) return { verdict: 'absent' };
    // Judged on the whole eSIM: the earlier attempt may have been another key's, on another bundle.
    const id = (assignment: { bundle: string; id: string }) => `${assignment.bundle}/${assignment.id}`;
    const stateNow = new Map(now.esimAssignments.map((assignment) => [id(assignment), assignment.bundleState]));
    if (stateNow.get(id({ bundle: before.bundle, id: before.target.id })) === 'revoked') {
      return { verdict: 'applied', upstream: null, details: { plan: before, observed: now.assignments } };
    }
    const unchanged =
      before.esimAssignments.length === now.esimAssignments.length &&
      before.esimAssignments.every((assignment) => stateNow.get(id(assignment)) === assignment.bundleState);
    if (unchanged) return { verdict: 'absent' };
    return {
      verdict: 'ambiguous',
      observed: { expectedRevoked: before.target.id, atSend: before.esimAssignments, now: now.esimAssignments },
    };
  },
  followUpsAfter: revokeFollowUpsAfter,
  checkFollowUp: checkRevokeFollowUp,
  dryRun: async (input) => {
    // One round of parallel calls: the two reads and eSIM Go's own `type=validate`, which changes nothing.
    const [read, validation] = await Promise.all([
      readPlan(input),
      clientOf(esimGo).then((client) => send(client, input, 'validate')),
    ]);
    if (!read.ok) throw outcomeProblem(read.outcome);
    if (validation.kind === 'throttled' || validation.kind === 'not_sent' || validation.kind === 'unknown')
      throw outcomeProblem(validation);
    const { plan } = read;
    return {
      preview: {
        ...plan,
        refundable: plan.refund.eligible,
        wouldBeRefusedByGuard: plan.esimReturnRisk && !input.allowEsimReturn,
        offerIdMatchesTarget: input.offerId === undefined ? null : input.offerId === plan.target?.id,
        upstreamAccepts: validation.kind === 'succeeded',
      },
      upstream: validation.upstream,
    };
  },
});
