/**
 * A stateful eSIM Go v2.4 API, faithful to eSIM Go's docs and official OpenAPI file (docs/providers.md §2;
 * test/fixtures/esim-go-v2.4.openapi.yaml). Written independently of the gateway's revoke planning, so tests that
 * compare the gateway's predictions with this simulator's behaviour compare two readings of the docs.
 *
 * Documented behaviour modelled:
 * - `X-API-Key` on every call; a wrong or missing key is a 403 `{"message"}` (not a 401).
 * - 10 requests per second per client (fixed one-second window), `X-Ratelimit-Limit/Remaining/Reset/Cost` on
 *   every answer, 429 `{"message":"Rate limit exceeded"}` with `Retry-After` beyond it.
 * - Assignments move processing → queued → active → depleted | expired | lapsed, or → revoked.
 * - Revoke by name takes the oldest unused (processing/queued) assignment of the bundle (names are case-sensitive).
 * - Revoke specific bundle (`/esims/{iccid}/bundles/{name}/assignments/{assignmentId}`) takes exactly that
 *   assignment, with the same refund rules, `type=validate` and returns process as revoke by name.
 * - A refund (to inventory, or to balance with refundToBalance=true) only when refunds are enabled for the
 *   organisation (off by default at eSIM Go), the assignment has not started, no data was used, and it was
 *   assigned at most 60 days ago.
 * - `type=validate` changes nothing and describes what a transaction would do.
 * - Returns process: an eSIM left without bundles while not installed leaves the account; after at least 4 days it
 *   is either gone for good or, if it got installed meanwhile, back.
 * - `GET /esims/{iccid}/history`: the eSIM's chronological list of actions, each `{name, bundleName, date}` (schema
 *   ESIMHistory; v2.3's `bundle`, `bundleState`, `alertType` are gone), named as the spec lists them: "Bundle Applied",
 *   "Bundle Revoked", "Bundle Refunded to Inventory", "Bundle Refunded To Balance" (sic: "to" in one, "To" in the other),
 *   "eSIM Returned". Like eSIM Go's, an entry names no assignment id: a refund ties to its revoke only by bundle name
 *   and date.
 *
 * Assumptions where the docs are silent or contradict themselves (each one is listed in docs/providers.md §2.8):
 * - A1 with no unused assignment, the most recent started one (active/depleted) is revoked, without refund (the
 *   docs' heading says "latest assignment"); with none of those either, 403 "no available bundles".
 * - A2 a bundle name not on the eSIM is a 403 like "no bundles left" (the documented 403 reasons).
 * - A3 refundToBalance=true without offerId is a 400; an offerId that is not an assignment of that bundle on that
 *   eSIM is a 400; a valid offerId does not change which assignment is revoked (revoke-by-name semantics).
 * - A4 an unknown ICCID, and one the returns process took for good (A5), is a 403 "not accessible".
 * - A5 the returns process starts at once (the docs say "may") and lasts `returnsProcessMs` (default 4 days, the docs'
 *   minimum); then the eSIM is `gone` (A4) or `back_in_account` (answering normally; profileStatus unchanged, as the
 *   installation that brings it back is not modelled), per the eSIM's `returnsEndAs`, else the `returnsEndAs` option
 *   (default `gone`).
 * - A6 "installed" means profileStatus Installed, Enabled or Disabled.
 * - A7 `type=validate` answers `{status}` with a sentence; its body is not documented beyond that schema.
 * - A8 revoke specific bundle: an assignment id not on that bundle, or an assignment that is no longer live
 *   (revoked, expired, lapsed), is a 403 like "no bundles left" (the operation documents only 200/400/403/429/500/503,
 *   no 404); it accepts refundToBalance and offerId with the A3 rules (v2.4 documents only `type` there, v2.5 adds
 *   refundToBalance), and offerId never changes which assignment is revoked.
 * - A9 during the returns process every call gets 403 "not accessible" by default (the docs: removed from the account
 *   at once). With `readableDuringReturns`, `GET /esims/{iccid}` (profileStatus as before; nothing in the body says
 *   "returning") and its history still answer while its bundle reads and revokes get 403: a client then tells the
 *   returns process by details answering while bundles are refused.
 * - A10 the history answer is a JSON array of ESIMHistory items, oldest first (the spec's schema says one object; its
 *   example and description say a chronological list): "Bundle Applied" at each assignment's assignmentDateTime,
 *   "Bundle Revoked" at the revoke, its refund entry `refundEntryDelayMs` later (default 0) and only when the revoke
 *   refunded, "eSIM Returned" when a returns process ends `gone` (unreadable then: the history is 403 too).
 *
 * Time-driven changes (the end of a returns process, a delayed refund entry) are evaluated lazily on every read,
 * never with timers: a stopped simulator leaves nothing running.
 */
import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse } from '../server.js';
import { SimulatorServer } from '../server.js';

export interface SimAssignment {
  id: string;
  callTypeGroup: string;
  initialQuantity: number;
  remainingQuantity: number;
  assignmentDateTime: string;
  assignmentReference: string;
  bundleState: string;
  unlimited: boolean;
}

export interface SimBundle {
  name: string;
  description: string;
  assignments: SimAssignment[];
}

/** One `GET /esims/{iccid}/history` item (ESIMHistory). No assignment id: eSIM Go's entries carry none either. */
export interface SimHistoryEntry {
  name: string;
  bundleName: string;
  /** ISO-8601; an entry dated in the future (a delayed refund) is not answered yet. */
  date: string;
}

export type ReturnsEnd = 'gone' | 'back_in_account';

export interface SimEsim {
  iccid: string;
  profileStatus: string;
  firstInstalledDateTime?: number;
  bundles: SimBundle[];
  /** False from the start of a returns process; true again if it ends `back_in_account`. */
  inAccount: boolean;
  /** In the order recorded (answered oldest first); when absent, a "Bundle Applied" entry per assignment. */
  history?: SimHistoryEntry[];
  /** How this eSIM's returns process ends (A5), overriding the `returnsEndAs` option; read when it ends. */
  returnsEndAs?: ReturnsEnd;
  /** The returns process this eSIM went into (epoch ms); `ended` once it ended `gone`. */
  returns?: { startedAt: number; endsAt: number; ended?: boolean };
}

export interface Revocation {
  iccid: string;
  bundle: string;
  assignmentId: string;
  refund: 'balance' | 'inventory' | null;
  at: number;
}

export interface EsimGoSimulatorOptions {
  apiKey?: string;
  refundsEnabled?: boolean;
  requestsPerSecond?: number;
  latencyMs?: number;
  /** Start with the sandbox records. Default true. */
  seed?: boolean;
  /** A5: how long the returns process lasts. Default 4 days (eSIM Go: "at least 4 days"). */
  returnsProcessMs?: number;
  /** A5: how a returns process ends, unless the eSIM says otherwise. Default `gone`. */
  returnsEndAs?: ReturnsEnd;
  /**
   * A9: the eSIM's details and history still answer during the returns process. Default false (403 at once, which
   * test/unit/esim-go-assignment-client.test.ts asserts).
   */
  readableDuringReturns?: boolean;
  /** A10: how long after a refunding revoke its refund entry appears in the history. Default 0. */
  refundEntryDelayMs?: number;
}

export const ESIM_GO_SANDBOX_API_KEY = 'sandbox-esim-go-api-key';
const DAY = 86_400_000;
const GB = 1_000_000_000;

const UNUSED = new Set(['processing', 'queued']);
const STARTED = new Set(['active', 'depleted']);
const LIVE = new Set([...UNUSED, ...STARTED]);
const INSTALLED = new Set(['Installed', 'Enabled', 'Disabled']);

export const assignment = (id: string, state: string, daysAgo: number, used = 0, size = GB): SimAssignment => ({
  id,
  callTypeGroup: 'data',
  initialQuantity: size,
  remainingQuantity: size - used,
  assignmentDateTime: new Date(Date.now() - daysAgo * DAY).toISOString(),
  assignmentReference: `${randomUUID()}-0`,
  bundleState: state,
  unlimited: false,
});

/** The sandbox's ready-made eSIMs: printed by `npm start` so its example requests work as pasted. */
export const esimGoSandboxEsims = (): SimEsim[] => [
  {
    iccid: '8943108165015003887',
    profileStatus: 'Released',
    bundles: [
      {
        name: 'esim_1GB_7D_GB_V2',
        description: 'eSIM, 1GB, 7 Days, United Kingdom, V2',
        assignments: [assignment('243', 'queued', 3), assignment('245', 'queued', 1)],
      },
    ],
    inAccount: true,
  },
  {
    iccid: '8944538532008160222',
    profileStatus: 'Installed',
    firstInstalledDateTime: Date.now() - 10 * DAY,
    bundles: [
      {
        name: 'esim_1GB_7D_GB_V2',
        description: 'eSIM, 1GB, 7 Days, United Kingdom, V2',
        assignments: [assignment('301', 'queued', 2)],
      },
      {
        name: 'esim_3GB_30D_EU_V2',
        description: 'eSIM, 3GB, 30 Days, Europe, V2',
        assignments: [assignment('302', 'active', 9, 400_000_000, 3 * GB)],
      },
    ],
    inAccount: true,
  },
  {
    iccid: '8943108160000804845',
    profileStatus: 'Released',
    bundles: [
      {
        name: 'esim_1GB_7D_GB_V2',
        description: 'eSIM, 1GB, 7 Days, United Kingdom, V2',
        assignments: [assignment('401', 'queued', 5)],
      },
    ],
    inAccount: true,
  },
];

const message = (status: number, text: string): SimResponse => ({ status, body: { message: text } });
const time = (a: SimAssignment) => Date.parse(a.assignmentDateTime);
const entry = (name: string, bundleName: string, at: number): SimHistoryEntry => ({
  name,
  bundleName,
  date: new Date(at).toISOString(),
});
const REFUND_ENTRY = { inventory: 'Bundle Refunded to Inventory', balance: 'Bundle Refunded To Balance' } as const;

/** The history eSIM Go would show for an eSIM added with its assignments: each one applied at its assignment time. */
const appliedHistory = (esim: SimEsim): SimHistoryEntry[] =>
  esim.bundles
    .flatMap((bundle) => bundle.assignments.map((a) => entry('Bundle Applied', bundle.name, time(a))))
    .sort((a, b) => Date.parse(a.date) - Date.parse(b.date));

export const createEsimGoSimulator = (options: EsimGoSimulatorOptions = {}) => {
  let apiKey = options.apiKey ?? ESIM_GO_SANDBOX_API_KEY;
  const limit = options.requestsPerSecond ?? 10;
  const returnsProcessMs = options.returnsProcessMs ?? 4 * DAY;
  const refundEntryDelayMs = options.refundEntryDelayMs ?? 0;
  const state = {
    refundsEnabled: options.refundsEnabled ?? true,
    esims: new Map<string, SimEsim>(),
    revocations: [] as Revocation[],
  };
  let window = { second: 0, count: 0 };

  const add = (esim: SimEsim) => {
    esim.history ??= appliedHistory(esim);
    state.esims.set(esim.iccid, esim);
  };
  const reset = () => {
    state.refundsEnabled = options.refundsEnabled ?? true;
    state.esims.clear();
    state.revocations.length = 0;
    window = { second: 0, count: 0 };
    if (options.seed ?? true) for (const esim of esimGoSandboxEsims()) add(esim);
  };
  reset();

  /** A5, lazily: a returns process whose time is up ends, `gone` or `back_in_account`, as of its end. */
  const settle = (esim: SimEsim): SimEsim => {
    const returns = esim.returns;
    if (returns === undefined || returns.ended === true || Date.now() < returns.endsAt) return esim;
    if ((esim.returnsEndAs ?? options.returnsEndAs ?? 'gone') === 'back_in_account') {
      esim.inAccount = true;
      delete esim.returns;
    } else {
      returns.ended = true;
      (esim.history ??= appliedHistory(esim)).push(entry('eSIM Returned', '', returns.endsAt));
    }
    return esim;
  };
  const current = (): SimEsim[] => [...state.esims.values()].map(settle);

  /** Authentication, then the per-second window; both answer with the rate-limit headers, as eSIM Go does. */
  const guarded =
    (handle: (request: SimRequest, params: Record<string, string>) => SimResponse) =>
    (request: SimRequest, params: Record<string, string>): SimResponse => {
      const now = Date.now();
      const second = Math.floor(now / 1000);
      if (window.second !== second) window = { second, count: 0 };
      window.count += 1;
      const headers = {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(Math.max(limit - window.count, 0)),
        'x-ratelimit-reset': new Date((second + 1) * 1000).toISOString(),
        'x-ratelimit-cost': '1',
      };
      if (window.count > limit)
        return { status: 429, body: { message: 'Rate limit exceeded' }, headers: { ...headers, 'retry-after': '1' } };
      if (request.headers['x-api-key'] !== apiKey)
        return { ...message(403, 'Unauthorised - the api token is invalid'), headers };
      const answer = handle(request, params);
      return { ...answer, headers: { ...headers, ...answer.headers } };
    };

  const found = (iccid: string): SimEsim | undefined => {
    const esim = state.esims.get(iccid);
    return esim === undefined ? undefined : settle(esim);
  };
  /** In the account: every call answers. */
  const accessible = (iccid: string): SimEsim | undefined => {
    const esim = found(iccid);
    return esim?.inAccount ? esim : undefined;
  };
  /** In the account, or (A9, if so configured) in its returns process: the eSIM's details and history answer. */
  const readable = (iccid: string): SimEsim | undefined => {
    const esim = found(iccid);
    const returning = esim?.returns !== undefined && esim.returns.ended !== true;
    return esim?.inAccount || (returning && options.readableDuringReturns === true) ? esim : undefined;
  };
  const notAccessible = () => message(403, 'The eSIM is not accessible by this user');

  /** Which assignment a revoke acts on, or the refusal when there is none to revoke. */
  type SelectTarget = (bundle: SimBundle, params: Record<string, string>) => SimAssignment | SimResponse;

  /** Revoke by name: the oldest unused assignment, else the latest started one (A1). */
  const oldestUnusedOrLatestStarted: SelectTarget = (bundle) => {
    const unused = bundle.assignments
      .filter((candidate) => UNUSED.has(candidate.bundleState))
      .sort((a, b) => time(a) - time(b) || Number(a.id) - Number(b.id));
    const started = bundle.assignments
      .filter((candidate) => STARTED.has(candidate.bundleState))
      .sort((a, b) => time(b) - time(a) || Number(b.id) - Number(a.id));
    return unused[0] ?? started[0] ?? message(403, 'You do not have any available Bundles left to revoke'); // A1
  };

  /** Revoke specific bundle: exactly the named assignment, while it is live (A8). */
  const namedAssignment: SelectTarget = (bundle, { assignmentId = '' }) => {
    const target = bundle.assignments.find((candidate) => candidate.id === assignmentId);
    if (target === undefined)
      return message(403, `No bundle assignment ${assignmentId} of ${bundle.name} on this eSIM`); // A8
    if (!LIVE.has(target.bundleState))
      return message(
        403,
        `You do not have any available Bundles left to revoke: assignment ${assignmentId} of ${bundle.name} is ${target.bundleState}`,
      ); // A8
    return target;
  };

  /** The revoke both routes share: query checks, eSIM and bundle lookup, refund rules, validate, effect, returns process. */
  const revokeWith =
    (select: SelectTarget) =>
    (request: SimRequest, params: Record<string, string>): SimResponse => {
      const { iccid = '', name = '' } = params;
      const type = request.query.get('type') ?? 'transaction';
      if (type !== 'validate' && type !== 'transaction') return message(400, 'type must be validate or transaction');
      const refundParam = request.query.get('refundToBalance');
      if (refundParam !== null && refundParam !== 'true' && refundParam !== 'false')
        return message(400, 'refundToBalance must be a boolean');
      const refundToBalance = refundParam === 'true';
      const offerId = request.query.get('offerId');
      if (refundToBalance && offerId === null) return message(400, 'offerId is required for refunding to balance'); // A3
      const esim = accessible(iccid);
      if (esim === undefined) return notAccessible(); // A4
      const bundle = esim.bundles.find((candidate) => candidate.name === name);
      if (bundle === undefined) return message(403, `No available bundles named ${name} on this eSIM`); // A2
      if (offerId !== null && !bundle.assignments.some((candidate) => candidate.id === offerId))
        return message(400, `offerId ${offerId} is not an assignment of ${name}`); // A3

      const target = select(bundle, params);
      if (!('bundleState' in target)) return target;

      const untouched = UNUSED.has(target.bundleState) && target.remainingQuantity === target.initialQuantity;
      const inWindow = Date.now() - time(target) <= 60 * DAY;
      const refund = state.refundsEnabled && untouched && inWindow ? (refundToBalance ? 'balance' : 'inventory') : null;
      const why = !state.refundsEnabled
        ? 'refunds are not enabled for this organisation'
        : !untouched
          ? 'the bundle has been started'
          : !inWindow
            ? 'the refund period has passed'
            : '';

      if (type === 'validate') {
        return {
          status: 200,
          body: {
            status: `Bundle assignment ${target.id} of ${name} would be revoked${refund === null ? ` without refund: ${why}` : ` and refunded to ${refund}`}`,
          },
        };
      }
      const now = Date.now();
      target.bundleState = 'revoked';
      state.revocations.push({ iccid, bundle: name, assignmentId: target.id, refund, at: now });
      const history = (esim.history ??= appliedHistory(esim));
      history.push(entry('Bundle Revoked', name, now));
      if (refund !== null) history.push(entry(REFUND_ENTRY[refund], name, now + refundEntryDelayMs)); // A10
      const live = esim.bundles
        .flatMap((candidate) => candidate.assignments)
        .filter((candidate) => LIVE.has(candidate.bundleState));
      if (live.length === 0 && !INSTALLED.has(esim.profileStatus)) {
        // A5, A6
        esim.inAccount = false;
        esim.returns = { startedAt: now, endsAt: now + returnsProcessMs };
      }
      return {
        status: 200,
        body: {
          status:
            refund === null
              ? 'Successfully Revoked Bundle, no refund applied'
              : `Successfully Revoked Bundle, bundle has been refunded to ${refund}`,
        },
      };
    };

  const server = new SimulatorServer(
    'esim-go',
    [
      {
        method: 'GET',
        path: '/esims/{iccid}',
        handle: guarded((_request, { iccid = '' }) => {
          const esim = readable(iccid); // A9
          if (esim === undefined) return notAccessible();
          return {
            status: 200,
            body: {
              iccid: esim.iccid,
              pin: '0000',
              puk: '12345678',
              matchingId: `JQ-${esim.iccid.slice(-6)}-SANDBOX`,
              smdpAddress: 'rsp.sandbox.example',
              profileStatus: esim.profileStatus,
              ...(esim.firstInstalledDateTime === undefined
                ? {}
                : { firstInstalledDateTime: esim.firstInstalledDateTime }),
              customerRef: '',
            },
          };
        }),
      },
      {
        method: 'GET',
        path: '/esims/{iccid}/history',
        handle: guarded((_request, { iccid = '' }) => {
          const esim = readable(iccid); // A9
          if (esim === undefined) return notAccessible();
          const now = Date.now();
          // Stable sort: entries of one moment keep their order (the revoke before its refund).
          const history = (esim.history ??= appliedHistory(esim))
            .filter((item) => Date.parse(item.date) <= now)
            .sort((a, b) => Date.parse(a.date) - Date.parse(b.date))
            .map(({ name, bundleName, date }) => ({ name, bundleName, date }));
          return { status: 200, body: history }; // A10
        }),
      },
      {
        method: 'GET',
        path: '/esims/{iccid}/bundles',
        handle: guarded((request, { iccid = '' }) => {
          const esim = accessible(iccid);
          if (esim === undefined) return notAccessible();
          const includeUsed = request.query.get('includeUsed') === 'true';
          const pageLimit = Number(request.query.get('limit') ?? 15);
          if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > 200)
            return message(400, 'limit must be between 1 and 200');
          const bundles = esim.bundles
            .map((bundle) => ({
              ...bundle,
              assignments: bundle.assignments
                .filter((candidate) => includeUsed || LIVE.has(candidate.bundleState))
                .slice(-pageLimit),
            }))
            .filter((bundle) => bundle.assignments.length > 0);
          return { status: 200, body: { bundles } };
        }),
      },
      {
        method: 'GET',
        path: '/esims/{iccid}/bundles/{name}',
        handle: guarded((_request, { iccid = '', name = '' }) => {
          const esim = accessible(iccid);
          if (esim === undefined) return notAccessible();
          const bundle = esim.bundles.find((candidate) => candidate.name === name);
          if (bundle === undefined) return message(400, `Bundle ${name} is not applied to this eSIM`);
          return { status: 200, body: { assignments: bundle.assignments } };
        }),
      },
      {
        method: 'DELETE',
        path: '/esims/{iccid}/bundles/{name}',
        handle: guarded(revokeWith(oldestUnusedOrLatestStarted)),
      },
      {
        method: 'DELETE',
        path: '/esims/{iccid}/bundles/{name}/assignments/{assignmentId}',
        handle: guarded(revokeWith(namedAssignment)),
      },
    ],
    {
      latencyMs: options.latencyMs,
      state: () => ({
        refundsEnabled: state.refundsEnabled,
        esims: current(),
        revocations: state.revocations,
      }),
      reset,
    },
  );

  return {
    server,
    esim: found,
    esims: current,
    /** Adds an eSIM; without a history, it gets a "Bundle Applied" entry per assignment. */
    addEsim: add,
    /** Every revocation applied (validate calls never appear here): the provider's effects, for exactly-once checks. */
    revocations: (): Revocation[] => [...state.revocations],
    /** The key eSIM Go accepts from now on (a key rotated at the provider, or a placeholder secret fixed). */
    setApiKey: (key: string): void => {
      apiKey = key;
    },
    setRefundsEnabled: (enabled: boolean): void => {
      state.refundsEnabled = enabled;
    },
    reset: () => {
      reset();
      server.calls.length = 0;
      server.clearFaults();
    },
  };
};

export type EsimGoSimulator = ReturnType<typeof createEsimGoSimulator>;
