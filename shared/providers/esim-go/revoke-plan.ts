/**
 * What eSIM Go will do on `DELETE /esims/{iccid}/bundles/{name}`, predicted from its reads. These are eSIM Go's
 * documented rules (docs/providers.md, eSIM Go §2.4-2.6), applied by the gateway before it writes:
 * - the oldest unused assignment of the named bundle (case-sensitive) is revoked; unused = `processing`/`queued`;
 * - with none unused, the latest started one (`active`/`depleted`) is ("revokes the latest assignment");
 * - a refund is possible only if the assignment has not started, nothing was used, it is inside the refund window
 *   (typically 60 days), and refunds are enabled for the organisation (which no read API tells);
 * - if no bundle is left afterwards and the eSIM is not installed, eSIM Go may start its returns process.
 */
import type { Assignment, BundlesList, EsimDetails } from './schemas.js';

export const UNUSED_STATES: ReadonlySet<string> = new Set(['processing', 'queued']);
export const STARTED_STATES: ReadonlySet<string> = new Set(['active', 'depleted']);
/** Profile statuses that mean the eSIM is on a device (the help centre's platform-dependent values included). */
export const INSTALLED_PROFILE_STATUSES: ReadonlySet<string> = new Set(['Installed', 'Enabled', 'Disabled']);
export const REFUND_WINDOW_DAYS = 60;

export interface AssignmentView {
  id: string;
  bundleState: string;
  initialQuantity: number | null;
  remainingQuantity: number | null;
  assignmentDateTime: string | null;
  unlimited: boolean;
}

export interface RefundPrediction {
  /** Whether eSIM Go's refund rules allow a refund of this assignment (refunds must also be enabled for the account). */
  eligible: boolean;
  destination: 'balance' | 'inventory' | null;
  reasons: string[];
}

export interface RevokePlan {
  bundle: string;
  /** The assignment eSIM Go will revoke, or null when none of that bundle can be revoked. */
  target: AssignmentView | null;
  refund: RefundPrediction;
  profileStatus: string | null;
  installed: boolean;
  /** Bundles (live assignments of any bundle) left on the eSIM after the revoke. */
  bundlesLeftAfter: number;
  /** The revoke would leave an uninstalled eSIM without bundles: eSIM Go may take it back. */
  esimReturnRisk: boolean;
  /** Every assignment of the bundle with its state, as read. */
  assignments: Array<Pick<AssignmentView, 'id' | 'bundleState' | 'assignmentDateTime'>>;
  /** Every assignment of every bundle on the eSIM, as read: what reconciliation compares against later. */
  esimAssignments: Array<{ bundle: string; id: string; bundleState: string }>;
}

const view = (assignment: Assignment): AssignmentView => ({
  id: assignment.id ?? '',
  bundleState: (assignment.bundleState ?? 'unknown').toLowerCase(),
  initialQuantity: assignment.initialQuantity ?? null,
  remainingQuantity: assignment.remainingQuantity ?? null,
  assignmentDateTime: assignment.assignmentDateTime ?? null,
  unlimited: assignment.unlimited ?? false,
});

const time = (assignment: AssignmentView) => Date.parse(assignment.assignmentDateTime ?? '') || 0;
/** Oldest first; equal times fall back to the numeric assignment id, which eSIM Go issues in order. */
const byAge = (a: AssignmentView, b: AssignmentView) => time(a) - time(b) || Number(a.id) - Number(b.id);

export const chooseTarget = (assignments: AssignmentView[]): AssignmentView | null => {
  const unused = assignments.filter((assignment) => UNUSED_STATES.has(assignment.bundleState)).sort(byAge);
  if (unused[0] !== undefined) return unused[0];
  const started = assignments.filter((assignment) => STARTED_STATES.has(assignment.bundleState)).sort(byAge);
  return started.at(-1) ?? null;
};

export const predictRefund = (
  target: AssignmentView | null,
  refundToBalance: boolean,
  now: number,
): RefundPrediction => {
  if (target === null)
    return { eligible: false, destination: null, reasons: ['no assignment of this bundle can be revoked'] };
  const reasons: string[] = [];
  if (!UNUSED_STATES.has(target.bundleState)) reasons.push(`the assignment has started (state ${target.bundleState})`);
  if (!target.unlimited && target.initialQuantity !== null && target.remainingQuantity !== target.initialQuantity)
    reasons.push('data has been used');
  const ageDays = (now - time(target)) / 86_400_000;
  if (target.assignmentDateTime === null || ageDays > REFUND_WINDOW_DAYS)
    reasons.push(`it was assigned more than ${REFUND_WINDOW_DAYS} days ago`);
  const eligible = reasons.length === 0;
  return {
    eligible,
    destination: eligible ? (refundToBalance ? 'balance' : 'inventory') : null,
    reasons: eligible
      ? ['refunds must also be enabled for your organisation by eSIM Go; the validate answer says whether they are']
      : reasons,
  };
};

/**
 * The plan of a revoke: by name (eSIM Go picks the assignment, `chooseTarget` predicts it), or of the assignment
 * `assignmentId` names (revocable while unused or started; null otherwise, and eSIM Go refuses).
 */
export const planRevoke = (input: {
  bundle: string;
  assignmentId?: string;
  esim: EsimDetails;
  bundles: BundlesList;
  refundToBalance: boolean;
  now: number;
}): RevokePlan => {
  const all = (input.bundles.bundles ?? []).flatMap((bundle) =>
    (bundle.assignments ?? []).map((assignment) => ({ name: bundle.name, assignment: view(assignment) })),
  );
  const ofBundle = all.filter((entry) => entry.name === input.bundle).map((entry) => entry.assignment);
  const target =
    input.assignmentId === undefined
      ? chooseTarget(ofBundle)
      : (ofBundle.find(
          (assignment) =>
            assignment.id === input.assignmentId &&
            (UNUSED_STATES.has(assignment.bundleState) || STARTED_STATES.has(assignment.bundleState)),
        ) ?? null);
  const live = all.filter(
    (entry) => UNUSED_STATES.has(entry.assignment.bundleState) || STARTED_STATES.has(entry.assignment.bundleState),
  );
  const bundlesLeftAfter = live.length - (target === null ? 0 : 1);
  const profileStatus = input.esim.profileStatus ?? null;
  const installed = profileStatus !== null && INSTALLED_PROFILE_STATUSES.has(profileStatus);
  return {
    bundle: input.bundle,
    target,
    refund: predictRefund(target, input.refundToBalance, input.now),
    profileStatus,
    installed,
    bundlesLeftAfter,
    esimReturnRisk: target !== null && bundlesLeftAfter === 0 && !installed,
    assignments: ofBundle.map(({ id, bundleState, assignmentDateTime }) => ({ id, bundleState, assignmentDateTime })),
    esimAssignments: all.map(({ name, assignment }) => ({
      bundle: name ?? '',
      id: assignment.id,
      bundleState: assignment.bundleState,
    })),
  };
};
