import { describe, expect, it } from 'vitest';
import {
  chooseTarget,
  planRevoke,
  predictRefund,
  type AssignmentView,
} from '../../shared/providers/esim-go/revoke-plan.js';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW - days * 86_400_000).toISOString();
const a = (id: string, bundleState: string, days: number, remaining = 100): AssignmentView => ({
  id,
  bundleState,
  initialQuantity: 100,
  remainingQuantity: remaining,
  assignmentDateTime: daysAgo(days),
  unlimited: false,
});

describe('chooseTarget (which assignment eSIM Go revokes)', () => {
  it('takes the oldest unused assignment, as in the docs example (243 before 245)', () => {
    expect(chooseTarget([a('245', 'queued', 1), a('243', 'queued', 3), a('247', 'active', 10, 50)])?.id).toBe('243');
  });

  it('counts processing as unused', () => {
    expect(chooseTarget([a('1', 'active', 9, 10), a('2', 'processing', 0)])?.id).toBe('2');
  });

  it('falls back to the latest started assignment when none is unused', () => {
    expect(chooseTarget([a('1', 'active', 9, 10), a('2', 'depleted', 3, 0), a('3', 'expired', 1)])?.id).toBe('2');
  });

  it('finds nothing to revoke among expired, revoked and lapsed assignments', () => {
    expect(chooseTarget([a('1', 'expired', 9), a('2', 'revoked', 3), a('3', 'lapsed', 1)])).toBeNull();
  });

  it('breaks equal times by assignment id', () => {
    expect(chooseTarget([a('12', 'queued', 1), a('9', 'queued', 1)])?.id).toBe('9');
  });
});

describe('predictRefund', () => {
  it('allows a refund of an unstarted, unused assignment inside 60 days, to inventory or balance', () => {
    expect(predictRefund(a('1', 'queued', 59), false, NOW)).toMatchObject({ eligible: true, destination: 'inventory' });
    expect(predictRefund(a('1', 'queued', 59), true, NOW)).toMatchObject({ eligible: true, destination: 'balance' });
  });

  it.each([
    ['started', a('1', 'active', 5), /started/],
    ['partly used', a('1', 'queued', 5, 90), /used/],
    ['older than 60 days', a('1', 'queued', 61), /60 days/],
  ])('refuses a refund of an assignment that is %s, and says why', (_label, assignment, reason) => {
    const refund = predictRefund(assignment, false, NOW);
    expect(refund).toMatchObject({ eligible: false, destination: null });
    expect(refund.reasons.join(' ')).toMatch(reason);
  });
});

describe('planRevoke', () => {
  const bundles = (assignments: Record<string, AssignmentView[]>) => ({
    // The wire shape leaves absent numbers out rather than null.
    bundles: Object.entries(assignments).map(([name, list]) => ({
      name,
      assignments: list.map((view) => ({
        ...view,
        initialQuantity: view.initialQuantity ?? undefined,
        remainingQuantity: view.remainingQuantity ?? undefined,
        assignmentDateTime: view.assignmentDateTime ?? undefined,
      })),
    })),
  });

  it('plans the named assignment when asked (revoke specific assignment), and nothing when it is no longer live', () => {
    const list = bundles({ b1: [a('243', 'queued', 3), a('245', 'queued', 1), a('246', 'revoked', 2)] });
    const esim = { profileStatus: 'Released' };
    const named = planRevoke({
      bundle: 'b1',
      assignmentId: '245',
      esim,
      bundles: list,
      refundToBalance: false,
      now: NOW,
    });
    expect(named.target?.id).toBe('245');
    expect(named.refund.eligible).toBe(true);
    expect(named.bundlesLeftAfter).toBe(1);
    expect(planRevoke({ bundle: 'b1', esim, bundles: list, refundToBalance: false, now: NOW }).target?.id).toBe('243');
    const gone = planRevoke({
      bundle: 'b1',
      assignmentId: '246',
      esim,
      bundles: list,
      refundToBalance: false,
      now: NOW,
    });
    expect(gone.target).toBeNull();
    expect(gone.esimReturnRisk).toBe(false);
    expect(
      planRevoke({ bundle: 'b1', assignmentId: '999', esim, bundles: list, refundToBalance: false, now: NOW }).target,
    ).toBeNull();
  });

  it('flags the returns-process risk when the last bundle of an uninstalled eSIM would go', () => {
    const plan = planRevoke({
      bundle: 'b1',
      esim: { profileStatus: 'Released' },
      bundles: bundles({ b1: [a('1', 'queued', 1)], b2: [a('2', 'expired', 40)] }),
      refundToBalance: false,
      now: NOW,
    });
    expect(plan).toMatchObject({ target: { id: '1' }, bundlesLeftAfter: 0, installed: false, esimReturnRisk: true });
  });

  it('sees no risk when the eSIM is installed or another bundle stays', () => {
    expect(
      planRevoke({
        bundle: 'b1',
        esim: { profileStatus: 'Installed' },
        bundles: bundles({ b1: [a('1', 'queued', 1)] }),
        refundToBalance: false,
        now: NOW,
      }).esimReturnRisk,
    ).toBe(false);
    expect(
      planRevoke({
        bundle: 'b1',
        esim: { profileStatus: 'Released' },
        bundles: bundles({ b1: [a('1', 'queued', 1)], b2: [a('2', 'active', 3, 5)] }),
        refundToBalance: false,
        now: NOW,
      }).esimReturnRisk,
    ).toBe(false);
  });

  it('matches bundle names case-sensitively', () => {
    expect(
      planRevoke({
        bundle: 'ESIM_1G_UK',
        esim: {},
        bundles: bundles({ esim_1g_uk: [a('1', 'queued', 1)] }),
        refundToBalance: false,
        now: NOW,
      }).target,
    ).toBeNull();
  });
});
