/**
 * eSIM Go: revoke one named assignment (DELETE /esims/{iccid}/bundles/{name}/assignments/{assignmentId}). The same
 * care as the revoke by name: the eSIM and its bundles are read first, the returns-process guard refuses to leave an
 * uninstalled eSIM without bundles unless asked, the lease serializes every key on the eSIM, and a lost answer is
 * reconciled by reading whether that assignment is `revoked`.
 */
import type * as z from '../../zod.js';
import { ProblemError } from '../../errors.js';
import type { ReadFailure } from '../../providers/esim-go/client.js';
import { esimGo } from '../../providers/esim-go/provider.js';
import {
  INSTALLED_PROFILE_STATUSES,
  type RevokePlan,
  STARTED_STATES,
  UNUSED_STATES,
  predictRefund,
} from '../../providers/esim-go/revoke-plan.js';
import type { BundlesList, EsimDetails } from '../../providers/esim-go/schemas.js';
import { clientOf } from '../../providers/provider.js';
import { defineOperation } from '../definition.js';
import { outcomeProblem } from '../pipeline/answer.js';
import { revokeAssignmentContract } from './contract.js';

type Input = z.infer<typeof revokeAssignmentContract.input>;
const REVOCABLE = new Set([...UNUSED_STATES, ...STARTED_STATES]);

/** The revoke-by-name plan's shape, with the named assignment as its target (null when it cannot be revoked). */
const planFor = (input: Input, esim: EsimDetails, bundles: BundlesList): RevokePlan => {
  const all = (bundles.bundles ?? []).flatMap((bundle) =>
    (bundle.assignments ?? []).map((assignment) => ({ bundle: bundle.name ?? '', assignment })),
  );
  const named = all.find(
    (entry) => entry.bundle === input.name && entry.assignment.id === input.assignmentId,
  )?.assignment;
  const state = (named?.bundleState ?? 'unknown').toLowerCase();
  const target =
    named === undefined || !REVOCABLE.has(state)
      ? null
      : {
          id: input.assignmentId,
          bundleState: state,
          initialQuantity: named.initialQuantity ?? null,
          remainingQuantity: named.remainingQuantity ?? null,
          assignmentDateTime: named.assignmentDateTime ?? null,
          unlimited: named.unlimited ?? false,
        };
  const live = all.filter((entry) => REVOCABLE.has((entry.assignment.bundleState ?? '').toLowerCase())).length;
  const profileStatus = esim.profileStatus ?? null;
  const installed = profileStatus !== null && INSTALLED_PROFILE_STATUSES.has(profileStatus);
  const bundlesLeftAfter = live - (target === null ? 0 : 1);
  return {
    bundle: input.name,
    target,
    refund: predictRefund(target, input.refundToBalance === true, Date.now()),
    profileStatus,
    installed,
    bundlesLeftAfter,
    esimReturnRisk: target !== null && bundlesLeftAfter === 0 && !installed,
    assignments: all
      .filter((entry) => entry.bundle === input.name)
      .map(({ assignment }) => ({
        id: assignment.id ?? '',
        bundleState: (assignment.bundleState ?? 'unknown').toLowerCase(),
        assignmentDateTime: assignment.assignmentDateTime ?? null,
      })),
    esimAssignments: all.map(({ bundle, assignment }) => ({
      bundle,
      id: assignment.id ?? '',
      bundleState: (assignment.bundleState ?? 'unknown').toLowerCase(),
    })),
  };
};

const readPlan = async (
  input: Input,
  signal?: AbortSignal,
): Promise<{ ok: true; plan: RevokePlan; observedAt: number } | { ok: false; outcome: ReadFailure }> => {
  const client = clientOf(esimGo);
  const observedAt = Date.now();
  const [esim, bundles] = await Promise.all([
    client.getEsim(input.iccid, { signal }),
    client.listBundles(input.iccid, { signal }),
  ]);
  if (!esim.ok) return esim;
  if (!bundles.ok) return bundles;
  return { ok: true, observedAt, plan: planFor(input, esim.data, bundles.data) };
};

const revokeRequest = (input: Input, type: 'validate' | 'transaction') => ({
  iccid: input.iccid,
  name: input.name,
  assignmentId: input.assignmentId,
  type,
  refundToBalance: input.refundToBalance,
  offerId: input.offerId,
});

const returnRiskProblem = (plan: RevokePlan) =>
  new ProblemError(
    'esim-return-risk',
    `Revoking assignment ${plan.target?.id ?? ''} of ${plan.bundle} would leave the eSIM with no bundle while it is not installed (profileStatus ${plan.profileStatus ?? 'unknown'}), ` +
      'so eSIM Go may start its returns process and remove the eSIM from your account. Nothing was revoked. ' +
      'Install the eSIM or add a bundle first, or repeat the request with allowEsimReturn=true (and a new Idempotency-Key) to accept that.',
    { extensions: { plan } },
  );

export const revokeAssignment = defineOperation<Input, RevokePlan>(revokeAssignmentContract, {
  descriptor: esimGo,
  isDryRun: (input) => input.dryRun || input.type === 'validate',
  // Per eSIM, shared with the revoke by name: the guard depends on every bundle of the eSIM.
  lease: ({ iccid }) => `iccid:${iccid}`,
  execute: async (input, gate) => {
    const read = await readPlan(input, gate.signal);
    if (!read.ok) return read.outcome;
    const { plan } = read;
    const gated = await gate.beforeWrite({
      request: revokeRequest(input, 'transaction'),
      snapshot: plan,
      observedAt: read.observedAt,
    });
    if (!gated.proceed) return gated.outcome;
    if (plan.esimReturnRisk && !input.allowEsimReturn) return { kind: 'refused', problem: returnRiskProblem(plan) };
    const outcome = await clientOf(esimGo).revokeAssignment(revokeRequest(input, 'transaction'), {
      signal: gate.signal,
      beforeSend: gated.beforeSend,
    });
    return { ...outcome, details: { plan } };
  },
  reconcile: async ({ previous, current }) => {
    const before = previous.snapshot;
    if (before === undefined || current === undefined)
      return { verdict: 'ambiguous', observed: { reason: 'no plan to compare' } };
    // Nothing was revocable then: eSIM Go would have refused, so sending again cannot revoke anything unexpected.
    if (before.target === null) return { verdict: 'absent' };
    // The earlier attempt may be another key's (a revoke by name included): judge it by the assignment it named.
    const key = (assignment: { bundle: string; id: string }) => `${assignment.bundle}/${assignment.id}`;
    const stateNow = new Map(current.esimAssignments.map((assignment) => [key(assignment), assignment.bundleState]));
    if (stateNow.get(key({ bundle: before.bundle, id: before.target.id })) === 'revoked')
      return { verdict: 'applied', upstream: null, details: { plan: before, observed: current.assignments } };
    const unchanged =
      before.esimAssignments.length === current.esimAssignments.length &&
      before.esimAssignments.every((assignment) => stateNow.get(key(assignment)) === assignment.bundleState);
    if (unchanged) return { verdict: 'absent' };
    return {
      verdict: 'ambiguous',
      observed: { expectedRevoked: before.target.id, atSend: before.esimAssignments, now: current.esimAssignments },
    };
  },
  dryRun: async (input) => {
    const [read, validation] = await Promise.all([
      readPlan(input),
      clientOf(esimGo).revokeAssignment(revokeRequest(input, 'validate')),
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
        upstreamAccepts: validation.kind === 'succeeded',
      },
      upstream: validation.upstream,
    };
  },
});
