/**
 * What follows an eSIM Go revoke: confirming its refund in eSIM Go's history, and, when it sent the eSIM into the
 * returns process, where the eSIM ended up. Both revoke operations share them.
 *
 * Refund: history entries carry no assignment id, so a revoke is matched by bundle and time: the first "Bundle
 * Revoked" entry of its bundle at or after its answer (less CLOCK_SKEW_MS), then the first refund entry of that bundle
 * at or after that. Two revokes of one bundle on one eSIM within the skew are told apart by order only. A refund that
 * has not shown up by the final check (the checks backed off to FOLLOW_UP_MAX_DELAY_SECONDS) is taken as none.
 */
import type { OperationRecord, RefundDestination, RefundRecord } from '../audit.js';
import { config } from '../config.js';
import type { FollowUpContext, FollowUpObservation, PlannedFollowUps } from '../follow-ups/definition.js';
import type { FollowUpKind } from '../follow-ups/schedule.js';
import { esimGo } from '../providers/esim-go/provider.js';
import type { RevokePlan } from '../providers/esim-go/revoke-plan.js';
import type { EsimHistoryEntry } from '../providers/esim-go/schemas.js';
import { clientOf } from '../providers/provider.js';

/** eSIM Go's clock and ours may differ: history entries this much before the answer still count. */
const CLOCK_SKEW_MS = 60_000;

const REFUND_ENTRIES: Record<string, RefundDestination> = {
  'bundle refunded to inventory': 'inventory',
  'bundle refunded to balance': 'balance',
};

export const revokeFollowUpsAfter = (answer: {
  status: string;
  details: Record<string, unknown> | undefined;
  answeredAt: string;
}): PlannedFollowUps | undefined => {
  const plan = answer.details?.plan as RevokePlan | undefined;
  if (answer.status !== 'succeeded' || plan === undefined) return undefined;
  const refund: RefundRecord = {
    predicted: plan.refund.eligible ? (plan.refund.destination ?? 'inventory') : 'none',
    confirmed: null,
    checkedAt: null,
    bundle: plan.bundle,
    assignmentId: plan.target?.id ?? null,
    revokedAt: answer.answeredAt,
  };
  return {
    kinds: [
      { kind: 'refund', firstDelaySeconds: config().FOLLOW_UP_FIRST_DELAY_SECONDS },
      ...(plan.esimReturnRisk
        ? [{ kind: 'esim-return' as const, firstDelaySeconds: config().ESIM_RETURN_CHECK_SECONDS }]
        : []),
    ],
    refund,
    ...(plan.esimReturnRisk ? { esimReturn: 'in_returns' as const } : {}),
  };
};

const at = (entry: EsimHistoryEntry) => Date.parse(entry.date ?? '') || 0;

/** The revoke's entry and its refund's, matched by bundle and time (see the module comment). */
export const matchRefund = (entries: readonly EsimHistoryEntry[], refund: RefundRecord) => {
  const ofBundle = entries
    .filter((entry) => entry.bundleName === refund.bundle && at(entry) >= Date.parse(refund.revokedAt) - CLOCK_SKEW_MS)
    .sort((a, b) => at(a) - at(b));
  const revoked = ofBundle.find((entry) => entry.name?.toLowerCase() === 'bundle revoked');
  const refunded = ofBundle.find(
    (entry) =>
      REFUND_ENTRIES[entry.name?.toLowerCase() ?? ''] !== undefined &&
      (revoked === undefined || at(entry) >= at(revoked) - CLOCK_SKEW_MS),
  );
  return {
    revoked: revoked ?? null,
    refunded: refunded === undefined ? null : (REFUND_ENTRIES[refunded.name?.toLowerCase() ?? ''] as RefundDestination),
  };
};

const checkRefund = async (
  record: OperationRecord,
  context: FollowUpContext<{ iccid: string }>,
): Promise<FollowUpObservation> => {
  const refund = record.refund;
  if (refund === undefined) return { outcome: 'final', observed: { reason: 'no refund on the record' } };
  const read = await (await clientOf(esimGo)).history(context.input.iccid, { signal: context.signal });
  if (!read.ok) {
    // The revoke sent the eSIM into the returns process and eSIM Go no longer shows it: its history cannot confirm.
    if (record.esimReturn !== undefined && read.outcome.kind === 'rejected' && read.outcome.upstream?.status === 403)
      return {
        outcome: 'final',
        observed: { reason: 'the eSIM is no longer in the account (returns process): its history is not readable' },
        refund: { ...refund, checkedAt: new Date().toISOString() },
        event: 'Refund Unconfirmable',
      };
    return { outcome: 'unavailable', observed: { reason: read.outcome.kind } };
  }
  const match = matchRefund(read.data, refund);
  const observed = { revokeEntry: match.revoked?.date ?? null, refundEntry: match.refunded };
  const settledWithout = match.refunded === null && (refund.predicted === 'none' || context.finalCheck);
  if (match.refunded === null && !settledWithout) return { outcome: 'pending', observed };
  const confirmed = match.refunded ?? 'none';
  const mismatch = confirmed !== refund.predicted;
  return {
    outcome: 'final',
    observed: { ...observed, predicted: refund.predicted, confirmed, mismatch },
    refund: { ...refund, confirmed, checkedAt: new Date().toISOString() },
    event: mismatch ? 'Refund Mismatch' : 'Refund Confirmed',
    ...(mismatch ? { metric: 'RefundMismatches' } : {}),
  };
};

/** After the returns process: the eSIM answers again (back in the account), or eSIM Go no longer shows it (gone). */
const checkEsimReturn = async (context: FollowUpContext<{ iccid: string }>): Promise<FollowUpObservation> => {
  const read = await (await clientOf(esimGo)).getEsim(context.input.iccid, { signal: context.signal });
  if (read.ok)
    return {
      outcome: 'final',
      observed: { profileStatus: read.data.profileStatus ?? null },
      esimReturn: 'back_in_account',
      event: 'eSIM Back In Account',
    };
  const status = read.outcome.kind === 'rejected' ? read.outcome.upstream?.status : undefined;
  if (status === 403 || status === 404)
    return { outcome: 'final', observed: { upstreamStatus: status }, esimReturn: 'gone', event: 'eSIM Gone' };
  return { outcome: 'unavailable', observed: { reason: read.outcome.kind } };
};

export const checkRevokeFollowUp = (
  kind: FollowUpKind,
  context: FollowUpContext<{ iccid: string }>,
): Promise<FollowUpObservation> =>
  kind === 'esim-return' ? checkEsimReturn(context) : checkRefund(context.record, context);
