/**
 * The contention run (issue 14, "exactly once and no stranded eSIM under contention"): many idempotency keys on FEW
 * targets, sent over HTTP and as SQS records at the same time, every attempt liable to a fault in a provider or in
 * DynamoDB, each key retried by its client with the SAME key and payload until a final answer. The verdict comes from
 * the simulators' own ground truth, never from the gateway's answers:
 * - at most one provider effect per key, and every key that ended `succeeded`/`in_progress` has its OWN effect: the
 *   number of effects on a target equals the number of keys that succeeded on it (so no rejected key had one); an
 *   eSIM Go success names the assignment it revoked (`plan.target.id`), and two successes never name the same one;
 *   an sTN effect carries the note of the key that sent it, so it must be a succeeded key's own;
 * - no eSIM leaves the eSIM Go account unless a request with allowEsimReturn=true for it succeeded;
 * - a key's final answer, asked again with the same key, is replayed identically (status and body; no body field is
 *   volatile in a saved answer). 409 reconciliation-needed is not saved: its replay must be that 409 again;
 * - every key reaches a final answer (200 succeeded/in_progress, 422, or 409 reconciliation-needed, counted apart as
 *   "needs a person"), and nothing changes at a provider after every key had its answer and the late work settled.
 *
 * Targets: eSIM Go eSIMs that are NOT installed (profileStatus Released) with two bundles and three to five queued
 * assignments in all, so the returns-process guard decides (two revokes that both think "one bundle stays" hand the
 * eSIM back), a small share of keys with allowEsimReturn=true; sTN activations (BUSY); Monogoto released eSIMs, a
 * share of keys with a stale matchingId. Keys of one target are launched together, so they contend.
 *
 * Faults, drawn for each provider request and DynamoDB command on the run's targets (SimulatorServer.chaos,
 * setDynamoDBChaos): lost answers applied late, slow answers (stale reads; writes applied now and answered late), 5xx
 * before and after applying, hangs and resets after applying, 429, DynamoDB failures (the answer's save included) and
 * latency; and, per client attempt, executions abandoned at their deadline (a short Lambda budget with provider and
 * DynamoDB latency: middy answers the invocation with a TimeoutError while the inner execution goes on). Every
 * invocation runs in a "container" (a handler instance serving one invocation at a time, as Lambda does).
 *
 * `lease: false` runs the same traffic with every request its own target (`lease: () => randomUUID()`), the way
 * chaos.ts switches reconciliation off: the comparison that shows what the target lease prevents.
 * Seeded: targets, keys and each key's fault sequence come from the seed (timing still varies between runs).
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { LOCAL_DEVELOPER_SENDER_ID, toSqsRecord } from '../../infra/local/events.js';
import { installLocalSinks, localDeadLetters, localOutcomeEvents } from '../../infra/local/sinks.js';
import { documentClient } from '../../shared/dynamodb.js';
import { scopedIdentity } from '../../shared/http/request.js';
import { idempotencyKeyPrefix, keyHash } from '../../shared/idempotency.js';
import { createOperationHandler } from '../../shared/handler.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { cancelActivation } from '../../shared/operations/cancel-activation/index.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { revokeBundle } from '../../shared/operations/revoke-bundle/index.js';
import { assignment } from '../../sandbox/esim-go/simulator.js';
import type { Fault, SimRequest } from '../../sandbox/server.js';
import { activation } from '../../sandbox/stn/simulator.js';
import { clearDynamoDBFaults, delayDynamoDB, dynamoDBFaultsStruck, setDynamoDBChaos } from '../dynamodb-faults.js';
import { type Answer, type Handler, type HttpCall, invoke } from '../harness.js';
import { type ChaosSimulators, random } from './chaos.js';

export interface ContentionOptions {
  seed: number;
  keys: number;
  /** How many targets the keys share, split by `mix`. */
  targets: number;
  /** Relative shares of eSIM Go eSIMs, sTN activations and Monogoto eSIMs among the targets. Default 2 : 1 : 1. */
  mix?: { esimGo: number; stn: number; monogoto: number };
  /** Keys in flight at once; keys are launched target by target, so a target's keys run together. */
  concurrency: number;
  /** false: every request its own lease (the lease switched off), the same traffic otherwise. */
  lease: boolean;
  /** UPSTREAM_TIMEOUT_MS the gateway runs with. */
  upstreamTimeoutMs: number;
  /** RECONCILE_AFTER_MS the gateway runs with: late applications stay well inside it (the gateway's stated assumption). */
  reconcileAfterMs: number;
  /** Share of keys sent as SQS records instead of HTTP requests. Default 0.3. */
  queueShare?: number;
  /** Share of provider writes on the run's targets that meet a fault. Default 0.3. */
  writeFaultRate?: number;
  /** Share of provider reads that meet one (a stale answer, 500, 429). Default 0.15. */
  readFaultRate?: number;
  /** Share of DynamoDB commands on the run's targets that fail or are slow (three times as many on the answer's save). Default 0.03. */
  dynamoFaultRate?: number;
  /** Share of client attempts with a budget too short for the provider's latency (abandoned executions). Default 0.05. */
  abandonRate?: number;
  /** Share of eSIM Go keys with allowEsimReturn=true. Default 0.05. */
  returnShare?: number;
  /** Share of Monogoto keys with a stale matchingId (always refused). Default 0.15. */
  staleMatchingIdShare?: number;
  /** A Retry-After second becomes this many milliseconds of client wait (scaled down for speed). Default 250. */
  retryAfterScaleMs?: number;
  /** Extra provider latency drawn per request, to widen the read-then-write window. Default 10 ms. */
  providerJitterMs?: number;
  /** A key still without a final answer this long after the run started is reported unfinished. Default 240 s. */
  keyDeadlineMs?: number;
}

export type Rule =
  | 'double-effect'
  | 'success-without-own-effect'
  | 'shared-effect'
  | 'esim-handed-back'
  | 'replay-differs'
  | 'unfinished'
  | 'unexpected-answer'
  | 'dead-lettered'
  | 'queue-answer-not-saved'
  | 'effect-after-answers';

export interface Violation {
  rule: Rule;
  target: string;
  key?: string;
  detail: string;
  /** Every key on the target: its input, final answer and the trace of its attempts. */
  keys: Array<{
    key: string;
    via: 'http' | 'sqs';
    input: Record<string, unknown>;
    final: string | undefined;
    body: unknown;
    trace: string[];
    audit: string[];
  }>;
  /** The provider's effects on the target, from its own records (`+ms` since the run started). */
  effects: string[];
  /** Every request the provider received for the target (sTN's carry the sending key's note). */
  calls: string[];
}

export interface ContentionReport {
  seed: number;
  lease: boolean;
  keys: number;
  httpKeys: number;
  queueKeys: number;
  targets: { esimGo: number; stn: number; monogoto: number };
  /** HTTP invocations (replays at the end not counted). */
  requests: number;
  /** SQS record deliveries, and the batches that carried them. */
  deliveries: number;
  batches: number;
  finals: Record<string, number>;
  /** Every HTTP answer while driving, by status and problem type (or body status). */
  answers: Record<string, number>;
  targetBusy: number;
  needsPerson: number;
  faultsInjected: Record<string, number>;
  /** What actually struck: the simulators' and DynamoDB's own counts. */
  faultsStruck: Record<string, number>;
  /** Invocations middy ended at their deadline (TimeoutError) while the execution inside went on. */
  abandoned: number;
  /** Most receives any queue key needed (the stack dead-letters after 5; its visibility timeout is 180 s, not this run's few hundred ms). */
  maxReceives: number;
  /** Lambda containers the run started (handler instances, each serving one invocation at a time). */
  containers: number;
  /** Answers the harness's OpenAPI contract check refused (the client saw nothing and retried). */
  contractErrors: string[];
  violations: Record<Rule, number>;
  traces: Violation[];
  unfinished: string[];
  durationMs: number;
}

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

type Provider = 'esim-go' | 'stn' | 'monogoto';

interface Target {
  provider: Provider;
  /** The text that names it in provider requests and DynamoDB items: the ICCID or the activation id. */
  id: string;
  label: string;
  keys: KeyPlan[];
}

interface KeyPlan {
  index: number;
  key: string;
  target: Target;
  via: 'http' | 'sqs';
  definition: OperationDefinition;
  input: Record<string, unknown>;
  http: Omit<HttpCall, 'headers' | 'timeoutMs'>;
  next: () => number;
  trace: string[];
  receives: number;
  final?: { label: string; status: number; body: Record<string, unknown> };
}

const WRITE_FAULTS = [
  'late-apply-500',
  'late-apply-reset',
  'late-apply-hang',
  'slow-answer',
  '500-before',
  '500-after',
  'hang-after',
  'reset-before',
  'reset-after',
  '429',
] as const;
type FaultName = (typeof WRITE_FAULTS)[number] | 'stale-read' | 'read-500' | 'read-429';
type ServerFault = Omit<Fault, 'path' | 'matching' | 'method' | 'times'>;

const RULES: Rule[] = [
  'double-effect',
  'success-without-own-effect',
  'shared-effect',
  'esim-handed-back',
  'replay-differs',
  'unfinished',
  'unexpected-answer',
  'dead-lettered',
  'queue-answer-not-saved',
  'effect-after-answers',
];
/**
 * An invocation's budget when no fault shortens it. Generous (the functions have 28 s): DynamoDB Local answers slowly
 * under concurrency (a dozen requests at once on one target take ~0.7 s each), and a timeout is a fault of its own.
 */
const LAMBDA_BUDGET_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const typeName = (body: Record<string, unknown>): string =>
  typeof body.type === 'string' ? (body.type.split('/').pop() ?? '') : '';
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

/** A final answer's label, or undefined for an answer to retry. */
const finalOf = (answer: Answer): string | undefined => {
  if (answer.status === 200 && (answer.body.status === 'succeeded' || answer.body.status === 'in_progress'))
    return String(answer.body.status);
  if (answer.status === 422) return `rejected:${typeName(answer.body)}`;
  if (answer.status === 409 && typeName(answer.body) === 'reconciliation-needed') return 'needs-person';
  return undefined;
};
const retryable = (answer: Answer): boolean => answer.status === 0 || answer.status === 409 || answer.status >= 500;
const summary = (answer: Answer): string =>
  `${answer.status} ${typeName(answer.body) || String(answer.body.status ?? '')}`.trim();

export const runContention = async (
  simulators: ChaosSimulators,
  options: ContentionOptions,
): Promise<ContentionReport> => {
  // Dead letters and outcome events are read back from the local sinks.
  installLocalSinks();
  const { monogoto, esimGo, stn } = simulators;
  const T = options.upstreamTimeoutMs;
  const R = options.reconcileAfterMs;
  const queueShare = options.queueShare ?? 0.3;
  const writeFaultRate = options.writeFaultRate ?? 0.3;
  const readFaultRate = options.readFaultRate ?? 0.15;
  const dynamoFaultRate = options.dynamoFaultRate ?? 0.03;
  const abandonRate = options.abandonRate ?? 0.05;
  const returnShare = options.returnShare ?? 0.05;
  const staleShare = options.staleMatchingIdShare ?? 0.15;
  const retryAfterScaleMs = options.retryAfterScaleMs ?? 250;
  const keyDeadlineMs = options.keyDeadlineMs ?? 240_000;
  let started = Date.now();
  const at = () => `+${Date.now() - started}ms`;
  const setup = random(options.seed);
  const pick = <T>(items: readonly T[], next: () => number): T => items[Math.floor(next() * items.length)] as T;
  const between = (low: number, high: number, next: () => number) => Math.round(low + next() * (high - low));

  const definitions = new Map(
    [cancelEsim, revokeBundle, cancelActivation].map((definition): [string, OperationDefinition] => [
      definition.name,
      definition,
    ]),
  );
  // The lease switched off: every request its own target, exactly as chaos.ts wraps definitions with alwaysResend.
  const unleased = (definition: OperationDefinition): OperationDefinition =>
    ({ ...definition, lease: () => randomUUID() }) as OperationDefinition;
  /**
   * Lambda containers: each runs one invocation at a time (a handler keeps per-invocation state, e.g. the batch
   * processor and the Lambda context Powertools reads its in-progress expiry from), and more are started when all are
   * busy, as Lambda scales out. A container whose invocation middy ended at its deadline takes the next one while the
   * abandoned execution inside goes on, as a thawed Lambda container would.
   */
  const idle = new Map<string, unknown[]>([...definitions.keys()].map((name) => [name, []]));
  let containers = 0;
  const inContainer = async <T>(
    definition: OperationDefinition,
    work: (handler: unknown) => Promise<T>,
  ): Promise<T> => {
    const pool = idle.get(definition.name) as unknown[];
    let handler = pool.pop();
    if (handler === undefined) {
      containers += 1;
      handler = createOperationHandler(options.lease ? definition : unleased(definition)) as unknown;
    }
    try {
      return await work(handler);
    } finally {
      pool.push(handler);
    }
  };
  const invokeHttp = (definition: OperationDefinition, call: HttpCall) =>
    inContainer(definition, (handler) => invoke(handler as Handler, definition, call));
  const invokeQueue = (definition: OperationDefinition, event: SQSEvent, context: Context) =>
    inContainer(definition, (handler) => (handler as QueueHandler)(event, context));

  const report: ContentionReport = {
    seed: options.seed,
    lease: options.lease,
    keys: options.keys,
    httpKeys: 0,
    queueKeys: 0,
    targets: { esimGo: 0, stn: 0, monogoto: 0 },
    requests: 0,
    deliveries: 0,
    batches: 0,
    finals: {},
    answers: {},
    targetBusy: 0,
    needsPerson: 0,
    faultsInjected: {},
    faultsStruck: {},
    abandoned: 0,
    maxReceives: 0,
    containers: 0,
    contractErrors: [],
    violations: Object.fromEntries(RULES.map((rule) => [rule, 0])) as Record<Rule, number>,
    traces: [],
    unfinished: [],
    durationMs: 0,
  };
  const struckBefore = {
    esimGo: { ...esimGo.server.faultsStruck },
    stn: { ...stn.server.faultsStruck },
    monogoto: { ...monogoto.server.faultsStruck },
    dynamo: { ...dynamoDBFaultsStruck },
  };
  const jitterBefore = [esimGo.server.jitterMs, stn.server.jitterMs, monogoto.server.jitterMs] as const;
  for (const server of [esimGo.server, stn.server, monogoto.server]) server.jitterMs = options.providerJitterMs ?? 10;

  // --- targets and keys -----------------------------------------------------------------------------------------
  const run = `${String(Date.now() % 1000).padStart(3, '0')}${options.lease ? '1' : '0'}`;
  const mix = options.mix ?? { esimGo: 2, stn: 1, monogoto: 1 };
  const shares = mix.esimGo + mix.stn + mix.monogoto;
  const esimGoCount = mix.esimGo === 0 ? 0 : Math.max(1, Math.round((options.targets * mix.esimGo) / shares));
  const stnCount = mix.stn === 0 ? 0 : Math.max(1, Math.round((options.targets * mix.stn) / shares));
  const monogotoCount = mix.monogoto === 0 ? 0 : Math.max(1, options.targets - esimGoCount - stnCount);
  report.targets = { esimGo: esimGoCount, stn: stnCount, monogoto: monogotoCount };
  const targets: Target[] = [];
  for (let index = 0; index < esimGoCount; index += 1) {
    const iccid = withLuhnCheckDigit(`894497${run}${String(index).padStart(8, '0')}`);
    const inB1 = 2 + Math.floor(setup() * 2);
    const inB2 = 1 + Math.floor(setup() * 2);
    const b1 = Array.from({ length: inB1 }, (_, n) => assignment(String(n + 1), 'queued', 10 - n));
    const b2 = Array.from({ length: inB2 }, (_, n) => assignment(String(n + 11), 'queued', 5 - n));
    esimGo.addEsim({
      iccid,
      profileStatus: 'Released',
      inAccount: true,
      bundles: [
        { name: 'b1', description: 'contention', assignments: b1 },
        { name: 'b2', description: 'contention', assignments: b2 },
      ],
    });
    targets.push({
      provider: 'esim-go',
      id: iccid,
      label: `esim-go ${iccid} (b1 ×${inB1}, b2 ×${inB2}, Released)`,
      keys: [],
    });
  }
  for (let index = 0; index < stnCount; index += 1) {
    const id = `ct${run}x${String(index).padStart(5, '0')}z`;
    stn.addActivation(activation(id, 'BUSY'));
    targets.push({ provider: 'stn', id, label: `stn ${id} (BUSY)`, keys: [] });
  }
  for (let index = 0; index < monogotoCount; index += 1) {
    const iccid = withLuhnCheckDigit(`894496${run}${String(index).padStart(8, '0')}`);
    monogoto.addEsim({ iccid, state: 'released', matchingId: `CT-${iccid.slice(-8)}` });
    targets.push({ provider: 'monogoto', id: iccid, label: `monogoto ${iccid} (released)`, keys: [] });
  }

  const plans: KeyPlan[] = [];
  for (let index = 0; index < options.keys; index += 1) {
    const target = targets[index % targets.length] as Target;
    const key = `contention-${run}-${String(index).padStart(5, '0')}`;
    const via = setup() < queueShare ? 'sqs' : 'http';
    const next = random(options.seed * 7919 + index);
    let plan: Omit<KeyPlan, 'index' | 'key' | 'target' | 'via' | 'next' | 'trace' | 'receives'>;
    if (target.provider === 'esim-go') {
      const name = setup() < 0.6 ? 'b1' : 'b2';
      const allow = setup() < returnShare;
      plan = {
        definition: definitions.get('revoke-bundle') as OperationDefinition,
        input: { iccid: target.id, name, ...(allow ? { allowEsimReturn: 'true' } : {}) },
        http: {
          method: 'DELETE',
          path: `/v1/esim-go/esims/${target.id}/bundles/${name}${allow ? '?allowEsimReturn=true' : ''}`,
        },
      };
    } else if (target.provider === 'stn') {
      // The note names the key, so sTN's own record of an applied cancel says whose request it was.
      const note = `key ${key}`;
      plan = {
        definition: definitions.get('cancel-activation') as OperationDefinition,
        input: { activationId: target.id, note },
        http: { method: 'POST', path: `/v1/stn/activations/${target.id}/cancel`, body: { note } },
      };
    } else {
      const matchingId = setup() < staleShare ? `CT-OLD-${target.id.slice(-8)}` : `CT-${target.id.slice(-8)}`;
      plan = {
        definition: definitions.get('cancel-esim') as OperationDefinition,
        input: { iccid: target.id, matchingId },
        http: { method: 'POST', path: `/v1/monogoto/esims/${target.id}/cancel`, body: { matchingId } },
      };
    }
    const full: KeyPlan = { ...plan, index, key, target, via, next, trace: [], receives: 0 };
    target.keys.push(full);
    plans.push(full);
  }
  report.httpKeys = plans.filter((plan) => plan.via === 'http').length;
  report.queueKeys = plans.length - report.httpKeys;

  // --- faults: every provider request and DynamoDB command on this run's targets may meet one ---------------------
  // Drawn per request, not per key attempt: a key told "target busy" never reaches the provider, and faults aimed at
  // a target ahead of time would pile up and strike nearly every request that does.
  const chance = random(options.seed * 104_729 + 1);
  const serverOf = (target: Target) =>
    target.provider === 'esim-go' ? esimGo.server : target.provider === 'stn' ? stn.server : monogoto.server;
  const byId = new Map(targets.map((target) => [target.id, target]));
  const counted = (name: FaultName, fault: ServerFault): ServerFault => {
    report.faultsInjected[name] = (report.faultsInjected[name] ?? 0) + 1;
    return fault;
  };
  const writeChaos = (): ServerFault | undefined => {
    if (chance() >= writeFaultRate) return undefined;
    const name = pick(WRITE_FAULTS, chance);
    switch (name) {
      case 'late-apply-500':
        return counted(name, {
          kind: 'status-then-apply-late',
          status: 500,
          applyAfterMs: between(T / 4, 0.6 * R, chance),
        });
      case 'late-apply-reset':
        return counted(name, { kind: 'reset-then-apply-late', applyAfterMs: between(T / 4, 0.6 * R, chance) });
      case 'late-apply-hang':
        return counted(name, { kind: 'hang-then-apply-late', applyAfterMs: between(T, 0.6 * R, chance) });
      case 'slow-answer':
        // Applied now, answered late: under the timeout a slow success, over it a lost answer applied early.
        return counted(name, { kind: 'stale-answer', latencyMs: between(T / 5, 1.3 * T, chance) });
      case '500-before':
        return counted(name, { kind: 'status', status: 500 });
      case '500-after':
        return counted(name, { kind: 'apply-then-status', status: 500 });
      case 'hang-after':
        return counted(name, { kind: 'apply-then-hang' });
      case 'reset-before':
        return counted(name, { kind: 'reset' });
      case 'reset-after':
        return counted(name, { kind: 'apply-then-reset' });
      case '429':
        return counted(name, { kind: 'status', status: 429, retryAfterSeconds: chance() < 0.5 ? 0 : 1 });
    }
  };
  /** `stale` for the reads a decision rests on (eSIM Go's bundle list, sTN's QueryActivation). */
  const readChaos = (stale: boolean): ServerFault | undefined => {
    if (chance() >= readFaultRate) return undefined;
    const roll = chance();
    if (stale && roll < 0.6)
      return counted('stale-read', { kind: 'stale-answer', latencyMs: between(T / 5, 0.9 * T, chance) });
    return roll < 0.8
      ? counted('read-500', { kind: 'status', status: 500 })
      : counted('read-429', { kind: 'status', status: 429, retryAfterSeconds: 0 });
  };
  const ours = (id: string | undefined | null): boolean => id !== undefined && id !== null && byId.has(id);
  const bodyField = (request: SimRequest, name: string): string | undefined => {
    const value = (request.body as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' ? value : undefined;
  };
  esimGo.server.chaos = (request) => {
    const iccid = /^\/esims\/([^/]+)/.exec(request.path)?.[1];
    if (!ours(iccid)) return undefined;
    if (request.method === 'DELETE') return request.query.get('type') === 'validate' ? undefined : writeChaos();
    return readChaos(request.path.endsWith('/bundles'));
  };
  stn.server.chaos = (request) => {
    if (request.path === '/api/CancelNewSubscription')
      return ours(bodyField(request, 'activationId')) ? writeChaos() : undefined;
    if (request.path === '/api/QueryActivation') return ours(request.query.get('id')) ? readChaos(true) : undefined;
    return undefined;
  };
  monogoto.server.chaos = (request) =>
    request.path === '/api/v1/eSIM/cancel' && ours(bodyField(request, 'iccid')) ? writeChaos() : undefined;
  const ids = [...byId.keys()];
  setDynamoDBChaos((_command, text) => {
    if (!ids.some((id) => text.includes(id))) return undefined;
    // The answer's final write (Powertools saving COMPLETED): its failure after a provider write is "outcome pending".
    const finalWrite = text.includes('COMPLETED');
    if (chance() >= (finalWrite ? 3 : 1) * dynamoFaultRate) return undefined;
    const roll = chance();
    if (finalWrite && roll < 0.5) {
      report.faultsInjected['ddb-answer-write-fails'] = (report.faultsInjected['ddb-answer-write-fails'] ?? 0) + 1;
      return { effect: 'fail' };
    }
    if (roll < 0.4) {
      report.faultsInjected['ddb-fails'] = (report.faultsInjected['ddb-fails'] ?? 0) + 1;
      return { effect: 'fail' };
    }
    report.faultsInjected['ddb-slow'] = (report.faultsInjected['ddb-slow'] ?? 0) + 1;
    return { effect: 'delay', ms: between(T / 4, 2 * T, chance), phase: roll < 0.7 ? 'before' : 'after' };
  });

  /** A client attempt may get a budget too short for a slow provider: middy answers at the deadline, the execution inside goes on. */
  const attemptBudget = (plan: KeyPlan): { fault: 'none' | 'abandon'; budgetMs: number } => {
    if (plan.next() >= abandonRate) return { fault: 'none', budgetMs: LAMBDA_BUDGET_MS };
    report.faultsInjected.abandon = (report.faultsInjected.abandon ?? 0) + 1;
    const { target } = plan;
    const slow = { kind: 'delay' as const, latencyMs: between(0.5 * T, 0.95 * T, plan.next), matching: target.id };
    if (serverOf(target).pendingFaults(target.id) === 0) {
      if (target.provider === 'esim-go')
        esimGo.server.injectFault({
          ...slow,
          method: 'DELETE',
          path: `/esims/${target.id}/bundles/${String(plan.input.name)}`,
        });
      else if (target.provider === 'stn')
        stn.server.injectFault({ ...slow, method: 'POST', path: '/api/CancelNewSubscription' });
      else monogoto.server.injectFault({ ...slow, method: 'POST', path: '/api/v1/eSIM/cancel' });
    }
    // Half the time the answer's save (a transaction naming the target) is slow too, so the deadline can pass during it.
    if (plan.next() < 0.5)
      delayDynamoDB('TransactWriteItemsCommand', {
        matching: target.id,
        ms: between(T, 3 * T, plan.next),
        phase: plan.next() < 0.5 ? 'before' : 'after',
      });
    return { fault: 'abandon', budgetMs: between(1.5 * T, 5 * T, plan.next) };
  };

  // --- HTTP -----------------------------------------------------------------------------------------------------
  const send = async (plan: KeyPlan, budgetMs: number, caller?: string): Promise<Answer> => {
    try {
      return await invokeHttp(plan.definition, {
        ...plan.http,
        headers: { 'Idempotency-Key': plan.key },
        timeoutMs: budgetMs,
        ...(caller === undefined ? {} : { caller }),
      });
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        report.abandoned += 1;
        return { status: 504, headers: {}, body: { type: 'lambda-timeout' } };
      }
      if (report.contractErrors.length < 20)
        report.contractErrors.push(`${plan.key}: ${(error as Error).message.slice(0, 300)}`);
      return { status: 0, headers: {}, body: { type: 'harness-error', detail: (error as Error).message } };
    }
  };
  const waitBefore = (plan: KeyPlan, answer: Answer, attempt: number) => {
    const retryAfter = Number(answer.headers['retry-after']);
    const jitter = plan.next() * 25;
    return Number.isFinite(retryAfter) && answer.headers['retry-after'] !== undefined
      ? Math.max(retryAfter * retryAfterScaleMs, 20) + jitter
      : Math.min(25 * attempt, 250) + jitter;
  };
  const expired = () => Date.now() - started > keyDeadlineMs;

  const settleFinal = (plan: KeyPlan, answer: Answer, label: string) => {
    plan.final = { label, status: answer.status, body: answer.body };
    report.finals[label] = (report.finals[label] ?? 0) + 1;
    if (label === 'needs-person') report.needsPerson += 1;
  };

  const driveHttp = async (plan: KeyPlan, caller?: string, withFaults = true) => {
    for (let attempt = 1; attempt <= 400 && !expired(); attempt += 1) {
      const { fault, budgetMs } = withFaults
        ? attemptBudget(plan)
        : { fault: 'none' as const, budgetMs: LAMBDA_BUDGET_MS };
      report.requests += 1;
      const answer = await send(plan, budgetMs, caller);
      const label = summary(answer);
      report.answers[label] = (report.answers[label] ?? 0) + 1;
      if (typeName(answer.body) === 'target-busy') report.targetBusy += 1;
      plan.trace.push(
        `${at()} ${caller === undefined ? 'http' : 'http-as-queue-caller'} ${fault} → ${label}${answer.headers['idempotent-replayed'] === 'true' ? ' (replayed)' : ''}${answer.status === 200 ? ` ${JSON.stringify((answer.body.plan as { target?: { id?: string } } | undefined)?.target?.id ?? '')}` : ''}`,
      );
      const final = finalOf(answer);
      if (final !== undefined) return { answer, final };
      if (!retryable(answer)) return { answer, final: `unexpected:${label}` };
      await sleep(waitBefore(plan, answer, attempt));
    }
    return undefined;
  };

  // --- SQS ------------------------------------------------------------------------------------------------------
  interface Message {
    plan: KeyPlan;
    body: string;
    visibleAt: number;
    resolve: (outcome: 'done' | 'dead' | 'expired') => void;
  }
  const queues = new Map<string, Message[]>([...definitions.keys()].map((name) => [name, []]));
  let polling = true;
  const inFlightBatches = new Map<string, number>();
  const deliver = async (name: string, batch: Message[]) => {
    report.batches += 1;
    const definition = definitions.get(name) as OperationDefinition;
    let budgetMs = LAMBDA_BUDGET_MS;
    const faults: string[] = [];
    for (const message of batch) {
      const injected = attemptBudget(message.plan);
      faults.push(injected.fault);
      budgetMs = Math.min(budgetMs, injected.budgetMs);
    }
    const records = batch.map((message) => {
      message.plan.receives += 1;
      report.deliveries += 1;
      report.maxReceives = Math.max(report.maxReceives, message.plan.receives);
      const record = toSqsRecord(message.body, name);
      record.attributes.ApproximateReceiveCount = String(message.plan.receives);
      return record;
    });
    let failed: Set<string>;
    let timedOut = false;
    try {
      const response = await invokeQueue(definition, { Records: records }, lambdaContext(name, budgetMs));
      failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch (error) {
      // A timed-out (or failed) invocation: SQS redelivers the whole batch.
      timedOut = (error as Error).name === 'TimeoutError';
      if (timedOut) report.abandoned += 1;
      failed = new Set(records.map((record) => record.messageId));
    }
    batch.forEach((message, position) => {
      const record = records[position];
      if (record === undefined) return;
      const dead = localDeadLetters.find((letter) => letter.messageId === record.messageId);
      const outcome = failed.has(record.messageId)
        ? timedOut
          ? 'timeout'
          : 'failed'
        : dead !== undefined
          ? `dead-lettered ${typeName(dead.problem as unknown as Record<string, unknown>)}`
          : 'done';
      message.plan.trace.push(
        `${at()} sqs receive ${message.plan.receives} (batch of ${batch.length}) ${faults[position]} → ${outcome}`,
      );
      if (outcome === 'done') return message.resolve('done');
      if (dead !== undefined) return message.resolve('dead');
      if (expired()) return message.resolve('expired');
      // Redelivered after a (scaled-down) visibility timeout.
      message.visibleAt = Date.now() + between(100, 400, message.plan.next);
      queues.get(name)?.push(message);
    });
  };
  const poller = async (name: string) => {
    const queue = queues.get(name) as Message[];
    const next = random(options.seed * 31 + name.length);
    while (polling) {
      const now = Date.now();
      const visible = queue.filter((message) => message.visibleAt <= now);
      if (visible.length === 0 || (inFlightBatches.get(name) ?? 0) >= 3) {
        await sleep(5);
        continue;
      }
      const batch = visible.slice(0, 1 + Math.floor(next() * 5));
      for (const message of batch) queue.splice(queue.indexOf(message), 1);
      inFlightBatches.set(name, (inFlightBatches.get(name) ?? 0) + 1);
      void deliver(name, batch).finally(() => inFlightBatches.set(name, (inFlightBatches.get(name) ?? 1) - 1));
    }
  };
  const pollers = [...queues.keys()].map((name) => poller(name));

  /**
   * The caller a direct queue message is scoped by, as the consumer recorded it in its outcome events; before any, the
   * consumer's rule for a direct message (`sqs:<SenderId>`). A wrong guess cannot pass unnoticed: the read would not be
   * a replay, which the run reports.
   */
  const queueCaller = (name: string): string =>
    localOutcomeEvents.find((event) => event.detail.source === 'sqs' && event.detail.operation === name)?.detail
      .caller ?? `sqs:${scopedIdentity(LOCAL_DEVELOPER_SENDER_ID)}`;
  /** Diagnostics for a trace: the state of the key's Powertools record (its id is Powertools' hash of the scope). */
  const recordState = async (plan: KeyPlan, caller: string): Promise<string> => {
    const id = `${idempotencyKeyPrefix(plan.definition)}#${createHash('md5')
      .update(JSON.stringify({ caller, key: plan.key }))
      .digest('base64')}`;
    const item = await documentClient
      .send(new GetCommand({ TableName: process.env.IDEMPOTENCY_TABLE_NAME, Key: { id }, ConsistentRead: true }))
      .catch(() => undefined);
    return item === undefined ? 'unreadable' : item.Item === undefined ? 'absent' : String(item.Item.status);
  };

  const driveQueue = async (plan: KeyPlan) => {
    const outcome = await new Promise<'done' | 'dead' | 'expired'>((resolve) => {
      queues.get(plan.definition.name)?.push({
        plan,
        body: JSON.stringify({ idempotencyKey: plan.key, input: plan.input }),
        visibleAt: Date.now(),
        resolve,
      });
    });
    if (outcome === 'expired') return void report.unfinished.push(plan.key);
    if (outcome === 'dead') {
      settleFinal(plan, { status: 0, headers: {}, body: {} }, 'dead-lettered');
      return;
    }
    // The record got its final answer; SQS says no more. The saved answer is read back with the same key and scope.
    const caller = queueCaller(plan.definition.name);
    plan.trace.push(`${at()} idempotency record ${await recordState(plan, caller)}`);
    const read = await driveHttp(plan, caller, false);
    if (read === undefined) return void report.unfinished.push(plan.key);
    if (read.answer.headers['idempotent-replayed'] !== 'true' && read.final !== 'needs-person')
      plan.trace.push(`${at()} NOT SAVED: reading the queue key's answer ran it again`);
    settleFinal(plan, read.answer, read.final);
  };

  const drive = async (plan: KeyPlan) => {
    if (plan.via === 'sqs') return driveQueue(plan);
    const result = await driveHttp(plan);
    if (result === undefined) return void report.unfinished.push(plan.key);
    settleFinal(plan, result.answer, result.final);
  };

  // Warm-up, outside the figures: DynamoDB Local's first requests on fresh tables are slow (a cold burst of six takes
  // ~2 s), which would make the first wave of keys time out for no reason of the gateway's.
  const warmIds = {
    esimGo: withLuhnCheckDigit(`894495${run}00000000`),
    stn: `ctwarm${run}`,
    monogoto: withLuhnCheckDigit(`894495${run}00000001`),
  };
  esimGo.addEsim({
    iccid: warmIds.esimGo,
    profileStatus: 'Installed',
    inAccount: true,
    bundles: [
      {
        name: 'w',
        description: 'warm-up',
        assignments: Array.from({ length: 12 }, (_, n) => assignment(String(n + 1), 'queued', 20 - n)),
      },
    ],
  });
  stn.addActivation(activation(warmIds.stn, 'BUSY'));
  monogoto.addEsim({ iccid: warmIds.monogoto, state: 'released', matchingId: 'WARM' });
  const warmCalls: Array<[OperationDefinition, Omit<HttpCall, 'headers' | 'timeoutMs'>]> = [
    [
      definitions.get('revoke-bundle') as OperationDefinition,
      { method: 'DELETE', path: `/v1/esim-go/esims/${warmIds.esimGo}/bundles/w` },
    ],
    [
      definitions.get('cancel-activation') as OperationDefinition,
      { method: 'POST', path: `/v1/stn/activations/${warmIds.stn}/cancel`, body: {} },
    ],
    [
      definitions.get('cancel-esim') as OperationDefinition,
      { method: 'POST', path: `/v1/monogoto/esims/${warmIds.monogoto}/cancel`, body: { matchingId: 'WARM' } },
    ],
  ];
  for (let round = 0; round < 3; round += 1) {
    await Promise.all(
      warmCalls.flatMap(([definition, call]) =>
        Array.from({ length: round === 0 ? 1 : 6 }, (_, n) =>
          invokeHttp(definition, {
            ...call,
            headers: { 'Idempotency-Key': `warm-${run}-${round}-${n}` },
            timeoutMs: 20_000,
          }).catch(() => undefined),
        ),
      ),
    );
  }
  started = Date.now();

  // Targets in a seeded order, each target's keys together (in a seeded order), so they contend.
  const order = [...targets].sort(() => setup() - 0.5).flatMap((target) => [...target.keys].sort(() => setup() - 0.5));
  let cursor = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (cursor < order.length) {
        const plan = order[cursor] as KeyPlan;
        cursor += 1;
        await sleep(plan.next() * 20);
        await drive(plan);
      }
    }),
  );
  polling = false;
  await Promise.all(pollers);

  // --- settle: no fault left, every late application done, abandoned executions over -----------------------------
  esimGo.server.chaos = undefined;
  stn.server.chaos = undefined;
  monogoto.server.chaos = undefined;
  setDynamoDBChaos(undefined);
  for (const target of targets) {
    serverOf(target).clearFaults(target.id);
    clearDynamoDBFaults(target.id);
  }
  while ([...inFlightBatches.values()].some((count) => count > 0)) await sleep(10);
  await Promise.all([esimGo.server.settled(), stn.server.settled(), monogoto.server.settled()]);
  await sleep(R + 2 * T);
  await Promise.all([esimGo.server.settled(), stn.server.settled(), monogoto.server.settled()]);

  // --- the oracle -----------------------------------------------------------------------------------------------
  const effectsOf = (target: Target): string[] => {
    if (target.provider === 'esim-go')
      return esimGo
        .revocations()
        .filter((effect) => effect.iccid === target.id)
        .map((effect) => `+${effect.at - started}ms revoked ${effect.bundle}/${effect.assignmentId}`);
    if (target.provider === 'stn')
      return stn
        .cancellations()
        .filter((effect) => effect.activationId === target.id)
        .map((effect) => `+${effect.at - started}ms cancelled (note "${effect.note ?? ''}")`);
    return monogoto
      .cancellations()
      .filter((effect) => effect.iccid === target.id)
      .map((effect) => `+${effect.at - started}ms cancelled ${effect.matchingId}`);
  };
  const callsOf = (target: Target): string[] =>
    serverOf(target)
      .calls.filter(
        (call) =>
          call.at >= started &&
          (call.path.includes(target.id) ||
            JSON.stringify(call.query).includes(target.id) ||
            JSON.stringify(call.body ?? '').includes(target.id)),
      )
      .map(
        (call) =>
          `+${call.at - started}ms ${call.method} ${call.path}${Object.keys(call.query).length > 0 ? `?${new URLSearchParams(call.query).toString()}` : ''}${call.body === undefined ? '' : ` ${JSON.stringify(call.body)}`}${call.fault === undefined ? '' : ` [${call.fault}]`}`,
      );
  const violation = (rule: Rule, target: Target, detail: string, key?: string) => {
    report.violations[rule] += 1;
    report.traces.push({
      rule,
      target: target.label,
      ...(key === undefined ? {} : { key }),
      detail,
      keys: target.keys.map((plan) => ({
        key: plan.key,
        via: plan.via,
        input: plan.input,
        final: plan.final?.label,
        body: plan.final?.body,
        trace: plan.trace,
        audit: [],
      })),
      effects: effectsOf(target),
      calls: callsOf(target),
    });
  };
  const succeeded = (plan: KeyPlan) => plan.final?.label === 'succeeded' || plan.final?.label === 'in_progress';

  const effectsBefore = new Map(targets.map((target) => [target, effectsOf(target).length]));
  for (const target of targets) {
    const winners = target.keys.filter(succeeded);
    // Keys whose effect may exist without a success to show for it: those needing a person and the unfinished (which
    // are reported on their own): the double-effect rule allows them one effect each.
    const unsure = target.keys.filter((plan) => plan.final === undefined || plan.final.label === 'needs-person').length;
    for (const plan of target.keys) {
      if (plan.final === undefined) violation('unfinished', target, 'no final answer before the deadline', plan.key);
      else if (plan.final.label.startsWith('unexpected:'))
        violation('unexpected-answer', target, plan.final.label, plan.key);
      else if (plan.final.label === 'dead-lettered')
        violation('dead-lettered', target, 'a message that could succeed went to the DLQ', plan.key);
      if (plan.trace.some((line) => line.includes('NOT SAVED')))
        violation(
          'queue-answer-not-saved',
          target,
          'the record was answered but its answer was not saved under its key',
          plan.key,
        );
    }
    const effects = effectsBefore.get(target) ?? 0;
    if (effects > winners.length + unsure)
      violation(
        'double-effect',
        target,
        `${effects} effects for ${winners.length} succeeded keys (${unsure} needing a person or unfinished): some key had more than one effect, or a rejected key had one`,
      );
    if (effects < winners.length)
      violation(
        'success-without-own-effect',
        target,
        `${winners.length} succeeded keys for ${effects} effects: some success is not its own`,
      );
    if (target.provider === 'esim-go') {
      const revoked = esimGo.revocations().filter((effect) => effect.iccid === target.id);
      const named = new Map<string, string>();
      for (const plan of winners) {
        const id = (plan.final?.body.plan as { target?: { id?: string } | null } | undefined)?.target?.id;
        const bundle = String(plan.input.name);
        if (id === undefined)
          violation(
            'success-without-own-effect',
            target,
            'the success names no revoked assignment (plan.target.id)',
            plan.key,
          );
        else if (!revoked.some((effect) => effect.assignmentId === id && effect.bundle === bundle))
          violation(
            'success-without-own-effect',
            target,
            `the success names ${bundle}/${id}, which eSIM Go never revoked`,
            plan.key,
          );
        else if (named.has(id))
          violation(
            'shared-effect',
            target,
            `${plan.key} and ${named.get(id) ?? ''} both name ${bundle}/${id}`,
            plan.key,
          );
        if (id !== undefined) named.set(id, plan.key);
      }
      const esim = esimGo.esim(target.id);
      const mayReturn = target.keys.some(
        (plan) =>
          plan.input.allowEsimReturn === 'true' &&
          (succeeded(plan) || plan.final === undefined || plan.final.label === 'needs-person'),
      );
      if (esim?.inAccount === false && !mayReturn)
        violation(
          'esim-handed-back',
          target,
          'the eSIM left the account (returns process) though no request with allowEsimReturn=true succeeded (or is unresolved)',
        );
    }
    if (target.provider === 'stn') {
      const applied = stn.cancellations().filter((effect) => effect.activationId === target.id);
      for (const plan of target.keys) {
        const own = applied.filter((effect) => effect.note === plan.input.note).length;
        if (own > 1) violation('double-effect', target, `${own} cancels carry this key's note`, plan.key);
        if (succeeded(plan) && own === 0)
          violation(
            'success-without-own-effect',
            target,
            "succeeded, but the cancel sTN applied carries another key's note",
            plan.key,
          );
        if (plan.final !== undefined && plan.final.label.startsWith('rejected') && own > 0)
          violation('double-effect', target, "rejected, yet sTN applied a cancel carrying this key's note", plan.key);
      }
    }
  }

  // --- replays: each finished key once more, with no fault; the answer must be the saved one --------------------
  let replayCursor = 0;
  const finished = plans.filter((plan) => plan.final !== undefined && plan.final.status !== 0);
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (replayCursor < finished.length) {
        const plan = finished[replayCursor] as KeyPlan;
        replayCursor += 1;
        const final = plan.final as NonNullable<KeyPlan['final']>;
        const caller = plan.via === 'sqs' ? queueCaller(plan.definition.name) : undefined;
        const replay = await send(plan, LAMBDA_BUDGET_MS, caller);
        plan.trace.push(
          `${at()} replay → ${summary(replay)}${replay.headers['idempotent-replayed'] === 'true' ? ' (replayed)' : ''}`,
        );
        const same =
          final.label === 'needs-person'
            ? replay.status === 409 && typeName(replay.body) === 'reconciliation-needed'
            : replay.status === final.status &&
              canonical(replay.body) === canonical(final.body) &&
              replay.headers['idempotent-replayed'] === 'true';
        if (!same)
          violation(
            'replay-differs',
            plan.target,
            `final ${final.status} ${canonical(final.body).slice(0, 400)}; replay ${replay.status} ${canonical(replay.body).slice(0, 400)} (replayed header: ${replay.headers['idempotent-replayed'] ?? 'absent'})`,
            plan.key,
          );
      }
    }),
  );
  await Promise.all([esimGo.server.settled(), stn.server.settled(), monogoto.server.settled()]);
  for (const target of targets) {
    const now = effectsOf(target).length;
    if (now !== effectsBefore.get(target))
      violation(
        'effect-after-answers',
        target,
        `${effectsBefore.get(target) ?? 0} effects once every key had its answer and the late work settled, ${now} after the replays`,
      );
  }

  // The gateway's own audit trail of each key on a violated target (every execution that reached an answer).
  if (report.traces.length > 0) {
    const audits = new Map<string, string[]>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documentClient
        .send(new ScanCommand({ TableName: process.env.OPERATIONS_TABLE_NAME, ExclusiveStartKey: startKey }))
        .catch(() => undefined);
      for (const item of page?.Items ?? []) {
        const lines = ((item.attempts ?? []) as Array<Record<string, unknown>>).map(
          (entry) =>
            `+${Date.parse(String(entry.at)) - started}ms ${String(item.operationId)} attempt ${String(entry.attempt)}: ${String(entry.status)} ${String(entry.httpStatus)} upstream ${String(entry.upstreamStatus)} ${entry.reconciled === true ? 'reconciled ' : ''}${String(entry.message ?? '')}`,
        );
        audits.set(String(item.idempotencyKeyHash), [...(audits.get(String(item.idempotencyKeyHash)) ?? []), ...lines]);
      }
      startKey = page?.LastEvaluatedKey;
    } while (startKey !== undefined);
    for (const trace of report.traces) for (const key of trace.keys) key.audit = audits.get(keyHash(key.key)) ?? [];
  }

  // --- figures --------------------------------------------------------------------------------------------------
  const diff = (label: string, now: Record<string, number | undefined>, before: Record<string, number | undefined>) => {
    for (const [kind, count] of Object.entries(now)) {
      const delta = (count ?? 0) - (before[kind] ?? 0);
      if (delta > 0) report.faultsStruck[`${label} ${kind}`] = delta;
    }
  };
  diff('esim-go', esimGo.server.faultsStruck, struckBefore.esimGo);
  diff('stn', stn.server.faultsStruck, struckBefore.stn);
  diff('monogoto', monogoto.server.faultsStruck, struckBefore.monogoto);
  diff('dynamodb', dynamoDBFaultsStruck, struckBefore.dynamo);
  [esimGo.server.jitterMs, stn.server.jitterMs, monogoto.server.jitterMs] = jitterBefore;
  report.containers = containers;
  report.unfinished = [...new Set(report.unfinished)];
  report.durationMs = Date.now() - started;
  return report;
};

/** One line per violation, then its trace: what a person needs to reproduce and read it. */
export const describeViolations = (report: ContentionReport, limit = 10): string =>
  [...report.traces]
    .sort(
      (a, b) =>
        RULES.indexOf(a.rule) -
        RULES.indexOf(b.rule) +
        (a.rule === 'unfinished' ? 100 : 0) -
        (b.rule === 'unfinished' ? 100 : 0),
    )
    .slice(0, limit)
    .map((violation) =>
      [
        `[${violation.rule}] ${violation.target}${violation.key === undefined ? '' : ` key ${violation.key}`}: ${violation.detail}`,
        `  effects: ${violation.effects.join('; ') || 'none'}`,
        `  provider calls: ${violation.calls.join('; ') || 'none'}`,
        ...violation.keys
          .filter(
            (key) => violation.key === undefined || key.key === violation.key || violation.rule !== 'replay-differs',
          )
          .map(
            (key) =>
              `  ${key.key} ${key.via} ${JSON.stringify(key.input)} → ${key.final ?? 'unfinished'}\n    ${key.trace.join('\n    ')}${key.audit.length === 0 ? '' : `\n    audit: ${key.audit.join('\n           ')}`}`,
          ),
      ].join('\n'),
    )
    .join('\n');
