/**
 * A stateful sTN Partner API (ServiceStack), faithful to what sTN documents (docs/providers.md §3):
 * - `stn-api-key` header on every call; without a valid one, 401 with a ServiceStack `responseStatus`.
 * - `POST /api/CancelNewSubscription` `{activationId, note?}` answers the activation, now `CANCELLING`
 *   (spelt `providerEnvrionment`, as sTN's own example is); `note` longer than 164 characters is a `MaximumLength`
 *   validation error; a missing `activationId` a `SerializationException`.
 * - `GET /api/QueryActivation` with `id`, `status`, `activationType`, `take`, `skip` filters, answering the AutoQuery
 *   envelope `{offset, total, results, meta}` (spelt `providerEnvironment` here).
 * - 429 beyond `requestsPerSecond` (sTN documents 429 but no limit and no Retry-After: none is sent).
 *
 * Assumptions where sTN's docs are silent (each is listed in docs/providers.md §3.10):
 * - S1 a cancel is accepted only while the activation is pending (`INIT` or `BUSY`); `DONE`, `ERROR`, `CANCELLING`
 *   and whatever S4 moved it to are refused with 400 `InvalidState`.
 * - S2 an unknown activationId is a 400 `NotFound` (sTN documents only 400/401/403/429).
 * - S3 success is HTTP 200.
 * - S4 a `CANCELLING` activation moves on by itself after `cancellingSettlesAfterMs` (default 5000) to
 *   `cancellingSettlesTo` (default `CANCELLED`, a value sTN never names: it documents nothing after `CANCELLING`);
 *   per activation, `settlesTo` / `settlesAfterMs` override both, so tests can drive every end: `CANCELLED`, `ERROR`,
 *   `DONE` (it completed instead) or an undocumented value. `modifiedAt` becomes the moment it moved.
 *
 * The move is evaluated lazily, whenever the activation is read (QueryActivation, the cancel's state check, the
 * accessors, `/__sim/state`), never with timers: a stopped simulator leaves nothing running.
 */
import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse } from '../server.js';
import { SimulatorServer } from '../server.js';

export interface SimActivation {
  id: string;
  createdAt: string;
  modifiedAt: string;
  status: string;
  activationType: string;
  providerEnvironment: string;
  referenceNumber: string;
  providerOrderNumber: string;
  subscriptionId: string;
  info: Record<string, unknown>;
  notes: string[];
  /** S4 overrides for this activation: where `CANCELLING` moves to, and after how long. */
  settlesTo?: string;
  settlesAfterMs?: number;
  /** While `CANCELLING`: the status it moves to, and when (epoch ms). Never on the wire. */
  settling?: { to: string; at: number };
}

export interface ActivationOptions {
  daysAgo?: number;
  settlesTo?: string;
  settlesAfterMs?: number;
}

export interface StnCancellation {
  activationId: string;
  note: string | undefined;
  at: number;
}

export interface StnSimulatorOptions {
  apiKey?: string;
  requestsPerSecond?: number;
  latencyMs?: number;
  seed?: boolean;
  /** S4: how long an activation stays `CANCELLING`. Default `CANCELLING_SETTLES_AFTER_MS`. */
  cancellingSettlesAfterMs?: number;
  /** S4: the status `CANCELLING` moves to. Default `CANCELLED` (undocumented by sTN). */
  cancellingSettlesTo?: string;
}

export const STN_SANDBOX_API_KEY = 'sandbox-stn-api-key';
/**
 * S4's default wait. Not 2000: test/integration/contention.test.ts reads a cancelled activation about 2 s after the
 * cancel and expects it still `CANCELLING`; 5 s keeps that test's margin and still shows the move under `npm start`.
 */
export const CANCELLING_SETTLES_AFTER_MS = 5000;

/** A ready-made activation; the third argument is its age in days, or that and its S4 overrides. */
export const activation = (id: string, status: string, options: number | ActivationOptions = 1): SimActivation => {
  const { daysAgo = 1, settlesTo, settlesAfterMs } = typeof options === 'number' ? { daysAgo: options } : options;
  const createdAt = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
  return {
    id,
    createdAt,
    modifiedAt: createdAt,
    status,
    activationType: 'ACTIVATENEW',
    providerEnvironment: 'SP16001',
    referenceNumber: `REF-${id.slice(0, 6)}`,
    providerOrderNumber: `03${id.length}0/2025`,
    subscriptionId: randomUUID().replaceAll('-', '').slice(0, 17),
    info: {
      simCardNumber: '8931083600000000176',
      eSim: false,
      subscriptionType: 'VOICEDATA',
      accessType: 'INTERNETACCESS',
      customerId: 'A1',
      stnCustomerId: 'Sc3iAMQCmA89',
      wishDate: createdAt,
    },
    notes: [],
    ...(settlesTo === undefined ? {} : { settlesTo }),
    ...(settlesAfterMs === undefined ? {} : { settlesAfterMs }),
  };
};

export const stnSandboxActivations = (): SimActivation[] => [
  activation('q7LmXw2RgxhI5Zvz', 'BUSY'),
  activation('Dn3KpT8vYc1WsQe4', 'DONE', 5),
  activation('a9Fh2JkL0pZx7TbN', 'INIT', 0),
];

const PENDING = new Set(['INIT', 'BUSY']);
const error = (status: number, errorCode: string, message: string, errors: unknown[] = []): SimResponse => ({
  status,
  body: { responseStatus: { errorCode, message, errors } },
});

/** The wire form of an activation (no simulator bookkeeping); the cancel answer keeps sTN's own misspelling. */
const wire = (record: SimActivation, spelling: 'providerEnvironment' | 'providerEnvrionment') => {
  const {
    notes: _notes,
    settlesTo: _settlesTo,
    settlesAfterMs: _settlesAfterMs,
    settling: _settling,
    providerEnvironment,
    ...rest
  } = record;
  return { ...rest, [spelling]: providerEnvironment };
};

export const createStnSimulator = (options: StnSimulatorOptions = {}) => {
  const apiKey = options.apiKey ?? STN_SANDBOX_API_KEY;
  const limit = options.requestsPerSecond ?? 50;
  const settlesAfterMs = options.cancellingSettlesAfterMs ?? CANCELLING_SETTLES_AFTER_MS;
  const settlesTo = options.cancellingSettlesTo ?? 'CANCELLED';
  const activations = new Map<string, SimActivation>();
  const cancellations: StnCancellation[] = [];
  let window = { second: 0, count: 0 };

  const reset = () => {
    activations.clear();
    cancellations.length = 0;
    window = { second: 0, count: 0 };
    if (options.seed ?? true) for (const record of stnSandboxActivations()) activations.set(record.id, record);
  };
  reset();

  /** S4, lazily: a `CANCELLING` activation whose time has come takes its final status, dated when it moved. */
  const settle = (record: SimActivation): SimActivation => {
    const due = record.settling;
    if (due !== undefined && record.status === 'CANCELLING' && Date.now() >= due.at) {
      record.status = due.to;
      record.modifiedAt = new Date(due.at).toISOString();
    }
    if (record.status !== 'CANCELLING') delete record.settling;
    return record;
  };
  const current = (): SimActivation[] => [...activations.values()].map(settle);

  const guarded =
    (handle: (request: SimRequest) => SimResponse) =>
    (request: SimRequest): SimResponse => {
      const second = Math.floor(Date.now() / 1000);
      if (window.second !== second) window = { second, count: 0 };
      window.count += 1;
      if (window.count > limit) return error(429, 'TooManyRequests', 'Rate limit for this endpoint exceeded');
      if (request.headers['stn-api-key'] !== apiKey)
        return error(401, 'Unauthorized', 'The API key is missing or invalid');
      return handle(request);
    };

  const cancel = (request: SimRequest): SimResponse => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as {
      activationId?: unknown;
      note?: unknown;
    };
    if (typeof body.activationId !== 'string' || body.activationId === '') {
      return error(
        400,
        'SerializationException',
        "Could not deserialize 'application/json' request using STNPartnerAPIServiceStack.ServiceModel.CancelNewSubscription: activationId is required",
      );
    }
    if (body.note !== undefined && (typeof body.note !== 'string' || body.note.length > 164)) {
      const length = typeof body.note === 'string' ? body.note.length : 0;
      return error(
        400,
        'MaximumLength',
        `The length of 'Note' must be 164 characters or fewer. You entered ${length} characters.`,
        [
          {
            errorCode: 'MaximumLength',
            fieldName: 'Note',
            message: `The length of 'Note' must be 164 characters or fewer. You entered ${length} characters.`,
            meta: { MaxLength: '164', TotalLength: String(length), PropertyName: 'Note' },
          },
        ],
      );
    }
    const found = activations.get(body.activationId);
    const record = found === undefined ? undefined : settle(found);
    if (record === undefined) return error(400, 'NotFound', `Activation ${body.activationId} does not exist`); // S2
    if (!PENDING.has(record.status))
      return error(
        400,
        'InvalidState',
        `Activation ${record.id} has status ${record.status} and can no longer be cancelled`,
      ); // S1
    const now = Date.now();
    record.status = 'CANCELLING';
    record.modifiedAt = new Date(now).toISOString();
    record.settling = {
      to: record.settlesTo ?? settlesTo,
      at: now + (record.settlesAfterMs ?? settlesAfterMs),
    }; // S4
    if (typeof body.note === 'string') record.notes.push(body.note);
    cancellations.push({
      activationId: record.id,
      note: typeof body.note === 'string' ? body.note : undefined,
      at: Date.now(),
    });
    return { status: 200, body: wire(record, 'providerEnvrionment') };
  };

  const query = (request: SimRequest): SimResponse => {
    const take = Number(request.query.get('take') ?? 100);
    const skip = Number(request.query.get('skip') ?? 0);
    const filters = ['id', 'status', 'activationType'] as const;
    const results = current().filter((record) =>
      filters.every((name) => request.query.get(name) === null || record[name] === request.query.get(name)),
    );
    return {
      status: 200,
      body: {
        offset: skip,
        total: results.length,
        results: results.slice(skip, skip + take).map((record) => wire(record, 'providerEnvironment')),
        meta: {},
      },
    };
  };

  const server = new SimulatorServer(
    'stn',
    [
      { method: 'POST', path: '/api/CancelNewSubscription', handle: guarded(cancel) },
      { method: 'GET', path: '/api/QueryActivation', handle: guarded(query) },
    ],
    { latencyMs: options.latencyMs, state: () => ({ activations: current(), cancellations }), reset },
  );

  return {
    server,
    activation: (id: string): SimActivation | undefined => {
      const record = activations.get(id);
      return record === undefined ? undefined : settle(record);
    },
    activations: current,
    addActivation: (record: SimActivation): void => void activations.set(record.id, record),
    /** Every cancel sTN accepted: the provider's effects, for exactly-once checks. */
    cancellations: (): StnCancellation[] => [...cancellations],
    reset: () => {
      reset();
      server.calls.length = 0;
      server.clearFaults();
    },
  };
};

export type StnSimulator = ReturnType<typeof createStnSimulator>;
