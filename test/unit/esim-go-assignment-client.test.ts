/**
 * EsimGoClient.revokeAssignment ("Revoke specific Bundle", DELETE /esims/{iccid}/bundles/{name}/assignments/{assignmentId})
 * against the real eSIM Go simulator over real sockets: it revokes exactly the named assignment, with the refund rules,
 * validate mode, records and returns process of revoke by name.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EsimGoClient } from '../../shared/providers/esim-go/client.js';
import { RateLimiter } from '../../shared/providers/rate-limit.js';
import {
  ESIM_GO_SANDBOX_API_KEY,
  type SimEsim,
  assignment,
  createEsimGoSimulator,
} from '../../sandbox/esim-go/simulator.js';

const simulator = createEsimGoSimulator({ requestsPerSecond: 1000, seed: false });
const client = () =>
  new EsimGoClient({
    baseUrl: simulator.server.url,
    timeoutMs: 2000,
    apiKey: async () => ESIM_GO_SANDBOX_API_KEY,
    limiter: new RateLimiter(1000),
  });

const ICCID = '8944000000000000100';
const BUNDLE = 'esim_1GB_7D_GB_V2';
/** An installed eSIM whose bundle has two unused assignments: 501 (the oldest, which revoke by name would take) and 502. */
const installedEsim = (): SimEsim => ({
  iccid: ICCID,
  profileStatus: 'Installed',
  firstInstalledDateTime: Date.now() - 5 * 86_400_000,
  bundles: [
    {
      name: BUNDLE,
      description: 'eSIM, 1GB, 7 Days, United Kingdom, V2',
      assignments: [assignment('501', 'queued', 3), assignment('502', 'queued', 1)],
    },
    {
      name: 'esim_3GB_30D_EU_V2',
      description: 'eSIM, 3GB, 30 Days, Europe, V2',
      assignments: [assignment('503', 'active', 4, 100_000_000)],
    },
  ],
  inAccount: true,
});
/** An uninstalled eSIM with one bundle holding one unused assignment and nothing else live. */
const releasedEsim = (iccid: string, id: string): SimEsim => ({
  iccid,
  profileStatus: 'Released',
  bundles: [
    {
      name: BUNDLE,
      description: 'eSIM, 1GB, 7 Days, United Kingdom, V2',
      assignments: [assignment(`${id}0`, 'expired', 40), assignment(id, 'queued', 2)],
    },
  ],
  inAccount: true,
});

const states = (iccid = ICCID) =>
  Object.fromEntries(
    (simulator.esim(iccid)?.bundles ?? []).flatMap((bundle) =>
      bundle.assignments.map((candidate) => [candidate.id, candidate.bundleState]),
    ),
  );

beforeAll(async () => {
  await simulator.server.start();
});
afterAll(async () => {
  await simulator.server.stop();
});
beforeEach(() => {
  simulator.reset();
  simulator.addEsim(installedEsim());
});

describe('EsimGoClient.revokeAssignment', () => {
  it('revokes exactly the named assignment, not the oldest one, and records it like revoke by name', async () => {
    const outcome = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '502',
      type: 'transaction',
    });
    expect(outcome).toEqual({
      kind: 'succeeded',
      upstream: { status: 200, body: { status: 'Successfully Revoked Bundle, bundle has been refunded to inventory' } },
    });
    expect(simulator.revocations()).toEqual([
      { iccid: ICCID, bundle: BUNDLE, assignmentId: '502', refund: 'inventory', at: expect.any(Number) },
    ]);
    expect(states()).toEqual({ '501': 'queued', '502': 'revoked', '503': 'active' });
    expect(simulator.server.calls.map((recorded) => `${recorded.method} ${recorded.path}`)).toEqual([
      `DELETE /esims/${ICCID}/bundles/${BUNDLE}/assignments/502`,
    ]);

    // Revoke by name now takes 501, the one left: both routes record and answer in the same shapes.
    const byName = await client().revokeBundle({ iccid: ICCID, name: BUNDLE, type: 'transaction' });
    expect(byName).toEqual(outcome);
    const [specific, named] = simulator.revocations();
    expect(named).toEqual({
      iccid: ICCID,
      bundle: BUNDLE,
      assignmentId: '501',
      refund: 'inventory',
      at: expect.any(Number),
    });
    expect(Object.keys(named ?? {})).toEqual(Object.keys(specific ?? {}));
  });

  it('revokes a started assignment without refund, and passes refundToBalance and offerId through', async () => {
    expect(
      await client().revokeAssignment({
        iccid: ICCID,
        name: 'esim_3GB_30D_EU_V2',
        assignmentId: '503',
        type: 'transaction',
      }),
    ).toMatchObject({
      kind: 'succeeded',
      upstream: { body: { status: 'Successfully Revoked Bundle, no refund applied' } },
    });
    expect(
      await client().revokeAssignment({
        iccid: ICCID,
        name: BUNDLE,
        assignmentId: '502',
        type: 'transaction',
        refundToBalance: true,
        offerId: '502',
      }),
    ).toMatchObject({
      kind: 'succeeded',
      upstream: { body: { status: 'Successfully Revoked Bundle, bundle has been refunded to balance' } },
    });
    expect(simulator.revocations().map((revocation) => [revocation.assignmentId, revocation.refund])).toEqual([
      ['503', null],
      ['502', 'balance'],
    ]);
    expect(simulator.server.calls[1]?.query).toEqual({ type: 'transaction', refundToBalance: 'true', offerId: '502' });
  });

  it('rejects a second revoke of the same assignment and changes nothing more', async () => {
    expect(
      (await client().revokeAssignment({ iccid: ICCID, name: BUNDLE, assignmentId: '502', type: 'transaction' })).kind,
    ).toBe('succeeded');
    const again = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '502',
      type: 'transaction',
    });
    expect(again).toMatchObject({
      kind: 'rejected',
      upstream: { status: 403, body: { message: expect.stringMatching(/502 .* is revoked/) } },
      message: expect.stringMatching(/502/),
    });
    expect(simulator.revocations().map((revocation) => revocation.assignmentId)).toEqual(['502']);
    expect(states()).toEqual({ '501': 'queued', '502': 'revoked', '503': 'active' });
  });

  it('rejects an assignment id that is not on that bundle, a bundle not on the eSIM and an unknown eSIM (403, as eSIM Go documents)', async () => {
    const unknownId = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '999',
      type: 'transaction',
    });
    expect(unknownId).toMatchObject({
      kind: 'rejected',
      upstream: { status: 403, body: { message: `No bundle assignment 999 of ${BUNDLE} on this eSIM` } },
    });
    const otherBundle = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '503',
      type: 'transaction',
    });
    expect(otherBundle).toMatchObject({ kind: 'rejected', upstream: { status: 403 } });
    const unknownBundle = await client().revokeAssignment({
      iccid: ICCID,
      name: 'esim_50GB_30D_US_V2',
      assignmentId: '501',
      type: 'transaction',
    });
    expect(unknownBundle).toMatchObject({
      kind: 'rejected',
      upstream: { status: 403, body: { message: expect.stringMatching(/No available bundles named/) } },
    });
    const unknownEsim = await client().revokeAssignment({
      iccid: '8944000000000000999',
      name: BUNDLE,
      assignmentId: '501',
      type: 'transaction',
    });
    expect(unknownEsim).toMatchObject({
      kind: 'rejected',
      upstream: { status: 403, body: { message: 'The eSIM is not accessible by this user' } },
    });
    expect(simulator.revocations()).toEqual([]);
  });

  it('with type=validate says what would happen to that assignment and changes nothing', async () => {
    const validate = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '502',
      type: 'validate',
    });
    expect(validate).toEqual({
      kind: 'succeeded',
      upstream: {
        status: 200,
        body: { status: `Bundle assignment 502 of ${BUNDLE} would be revoked and refunded to inventory` },
      },
    });
    const started = await client().revokeAssignment({
      iccid: ICCID,
      name: 'esim_3GB_30D_EU_V2',
      assignmentId: '503',
      type: 'validate',
    });
    expect(started).toMatchObject({
      upstream: {
        body: {
          status:
            'Bundle assignment 503 of esim_3GB_30D_EU_V2 would be revoked without refund: the bundle has been started',
        },
      },
    });
    // The same sentence revoke by name gives for the assignment it would take (501).
    const byName = await client().revokeBundle({ iccid: ICCID, name: BUNDLE, type: 'validate' });
    const specific501 = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '501',
      type: 'validate',
    });
    expect(specific501).toEqual(byName);
    expect(simulator.revocations()).toEqual([]);
    expect(states()).toEqual({ '501': 'queued', '502': 'queued', '503': 'active' });
  });

  it('reports a lost answer as unknown while the simulator applied the revoke', async () => {
    simulator.server.injectFault({ kind: 'apply-then-reset', method: 'DELETE', matching: '/assignments/502' });
    const outcome = await client().revokeAssignment({
      iccid: ICCID,
      name: BUNDLE,
      assignmentId: '502',
      type: 'transaction',
    });
    expect(outcome).toMatchObject({ kind: 'unknown', timedOut: false });
    expect(simulator.server.calls[0]?.fault).toBe('apply-then-reset');
    expect(simulator.revocations().map((revocation) => revocation.assignmentId)).toEqual(['502']);
    expect(states()).toEqual({ '501': 'queued', '502': 'revoked', '503': 'active' });
  });

  it('starts the returns process after the last live assignment of an uninstalled eSIM, exactly as revoke by name does', async () => {
    simulator.addEsim(releasedEsim('8944000000000000200', '601'));
    simulator.addEsim(releasedEsim('8944000000000000300', '701'));
    expect(
      (
        await client().revokeAssignment({
          iccid: '8944000000000000200',
          name: BUNDLE,
          assignmentId: '601',
          type: 'transaction',
        })
      ).kind,
    ).toBe('succeeded');
    expect(
      (await client().revokeBundle({ iccid: '8944000000000000300', name: BUNDLE, type: 'transaction' })).kind,
    ).toBe('succeeded');
    expect(simulator.esim('8944000000000000200')?.inAccount).toBe(false);
    expect(simulator.esim('8944000000000000300')?.inAccount).toBe(false);
    expect(simulator.revocations().map((revocation) => revocation.assignmentId)).toEqual(['601', '701']);
    // Both eSIMs are gone from the account: later calls are "not accessible".
    expect(await client().getEsim('8944000000000000200')).toMatchObject({
      ok: false,
      outcome: { kind: 'rejected', upstream: { status: 403 } },
    });
    expect(
      await client().revokeAssignment({
        iccid: '8944000000000000200',
        name: BUNDLE,
        assignmentId: '601',
        type: 'transaction',
      }),
    ).toMatchObject({
      kind: 'rejected',
      upstream: { status: 403, body: { message: 'The eSIM is not accessible by this user' } },
    });
  });

  it('keeps an uninstalled eSIM that still has a live assignment, and never starts the returns process on validate', async () => {
    simulator.addEsim({
      ...releasedEsim('8944000000000000400', '801'),
      bundles: [
        {
          name: BUNDLE,
          description: '',
          assignments: [assignment('801', 'queued', 2), assignment('802', 'queued', 1)],
        },
      ],
    });
    expect(
      (
        await client().revokeAssignment({
          iccid: '8944000000000000400',
          name: BUNDLE,
          assignmentId: '801',
          type: 'validate',
        })
      ).kind,
    ).toBe('succeeded');
    expect(
      (
        await client().revokeAssignment({
          iccid: '8944000000000000400',
          name: BUNDLE,
          assignmentId: '802',
          type: 'transaction',
        })
      ).kind,
    ).toBe('succeeded');
    expect(simulator.esim('8944000000000000400')?.inAccount).toBe(true);
    expect(
      (
        await client().revokeAssignment({
          iccid: '8944000000000000400',
          name: BUNDLE,
          assignmentId: '801',
          type: 'validate',
        })
      ).kind,
    ).toBe('succeeded');
    expect(simulator.esim('8944000000000000400')?.inAccount).toBe(true);
    expect(
      (
        await client().revokeAssignment({
          iccid: '8944000000000000400',
          name: BUNDLE,
          assignmentId: '801',
          type: 'transaction',
        })
      ).kind,
    ).toBe('succeeded');
    expect(simulator.esim('8944000000000000400')?.inAccount).toBe(false);
  });
});
