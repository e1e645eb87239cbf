/**
 * The chaos run: many idempotency keys across the three operations, every request hit by a random fault (in
 * the provider or in DynamoDB), a client that retries each key with backoff until it gets a final answer, and a
 * verdict taken from the simulators' own records of what was applied:
 * - every key that ended `succeeded`/`in_progress` has exactly one provider effect, and every key that ended
 *   rejected has none (no double effect, no untruthful answer);
 * - every key ends (none lost).
 * Seeded and reproducible: each key's fault sequence comes from the seed alone.
 */
import { createOperationHandler } from '../../shared/handler.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { cancelActivation } from '../../shared/operations/cancel-activation/index.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { revokeBundle } from '../../shared/operations/revoke-bundle/index.js';
import { type EsimGoSimulator, assignment } from '../../sandbox/esim-go/simulator.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import type { Fault } from '../../sandbox/server.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { clearDynamoDBFaults, failIdempotencyResultWrite } from '../dynamodb-faults.js';
import { type Answer, type Handler, invoke } from '../harness.js';

export interface ChaosSimulators {
  monogoto: MonogotoSimulator;
  esimGo: EsimGoSimulator;
  stn: StnSimulator;
}

export interface ChaosOptions {
  seed: number;
  keysPerOperation: number;
  concurrency: number;
  /** false runs the same traffic against definitions whose reconciliation always re-sends: the hole this closes. */
  reconcile: boolean;
  /** The provider timeout the gateway runs with (UPSTREAM_TIMEOUT_MS), for "slow success just under the timeout". */
  upstreamTimeoutMs: number;
}

export interface ChaosReport {
  seed: number;
  keys: number;
  requests: number;
  faults: Record<string, number>;
  finals: Record<string, number>;
  reconciledAnswers: number;
  doubleEffects: number;
  untruthful: Array<{ key: string; operation: string; final: string; effects: number }>;
  unfinished: string[];
  /** Invocations that ran out of their time budget (middy ended them, as Lambda would). */
  lambdaTimeouts: number;
  durationMs: number;
}

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed from its seed. */
export const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const FAULTS = [
  'apply-then-hang',
  'apply-then-500',
  '500',
  'apply-then-reset',
  'reset',
  '429',
  'slow-success',
  'dynamodb-after-success',
] as const;
type FaultName = (typeof FAULTS)[number] | 'none';

/** Each invocation's time budget; one that runs out ends as a Lambda timeout (API Gateway would answer 504). */
const LAMBDA_BUDGET_MS = 2000;

const alwaysResend = (definition: OperationDefinition): OperationDefinition => ({
  ...definition,
  reconcile: async () => ({ verdict: 'absent' }),
});

interface KeyPlan {
  key: string;
  operation: OperationDefinition;
  handler: Handler;
  target: string;
  send: (handler: Handler, definition: OperationDefinition, key: string) => Promise<Answer>;
  effects: () => number;
  providerFault: (fault: Omit<Fault, 'path' | 'matching'>) => void;
  clear: () => void;
}

export const runChaos = async (simulators: ChaosSimulators, options: ChaosOptions): Promise<ChaosReport> => {
  const { monogoto, esimGo, stn } = simulators;
  const definitions = [cancelEsim, revokeBundle, cancelActivation] satisfies OperationDefinition[];
  const handlers = new Map(
    definitions.map((definition) => [
      definition.name,
      createOperationHandler(options.reconcile ? definition : alwaysResend(definition)) as unknown as Handler,
    ]),
  );
  const run = `${options.seed}-${options.reconcile ? 'r' : 'n'}-${Date.now() % 100000}`;
  const report: ChaosReport = {
    seed: options.seed,
    keys: 0,
    requests: 0,
    faults: {},
    finals: {},
    reconciledAnswers: 0,
    doubleEffects: 0,
    untruthful: [],
    unfinished: [],
    lambdaTimeouts: 0,
    durationMs: 0,
  };
  const started = Date.now();

  const plans: KeyPlan[] = [];
  for (let index = 0; index < options.keysPerOperation * 3; index += 1) {
    const key = `chaos-${run}-${index}`;
    const definition = definitions[index % 3] as OperationDefinition;
    const handler = handlers.get(definition.name) as Handler;
    const serial = `${String(options.seed % 1000).padStart(3, '0')}${String(index).padStart(6, '0')}`;
    if (definition.name === 'cancel-esim') {
      const iccid = withLuhnCheckDigit(`894499${String(Date.now() % 1000).padStart(3, '0')}${serial}`);
      monogoto.addEsim({ iccid, state: 'released', matchingId: `CHAOS-${index}` });
      plans.push({
        key,
        operation: definition,
        handler,
        target: iccid,
        send: (h, d, k) =>
          invoke(h, d, {
            method: 'POST',
            path: `/v1/monogoto/esims/${iccid}/cancel`,
            headers: { 'Idempotency-Key': k },
            body: { matchingId: `CHAOS-${index}` },
            timeoutMs: LAMBDA_BUDGET_MS,
          }),
        effects: () => monogoto.cancellations().filter((effect) => effect.iccid === iccid).length,
        providerFault: (fault) =>
          monogoto.server.injectFault({ ...fault, path: '/api/v1/eSIM/cancel', matching: iccid }),
        clear: () => monogoto.server.clearFaults(iccid),
      });
    } else if (definition.name === 'revoke-bundle') {
      const iccid = withLuhnCheckDigit(`894498${String(Date.now() % 1000).padStart(3, '0')}${serial}`);
      // Three unused assignments: a blind re-send would visibly revoke a second one.
      esimGo.addEsim({
        iccid,
        profileStatus: 'Installed',
        inAccount: true,
        bundles: [
          {
            name: 'b1',
            description: 'chaos',
            assignments: [assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)],
          },
        ],
      });
      plans.push({
        key,
        operation: definition,
        handler,
        target: iccid,
        send: (h, d, k) =>
          invoke(h, d, {
            method: 'DELETE',
            path: `/v1/esim-go/esims/${iccid}/bundles/b1`,
            headers: { 'Idempotency-Key': k },
            timeoutMs: LAMBDA_BUDGET_MS,
          }),
        effects: () => esimGo.revocations().filter((effect) => effect.iccid === iccid).length,
        providerFault: (fault) =>
          esimGo.server.injectFault({ ...fault, path: `/esims/${iccid}/bundles/b1`, matching: iccid }),
        clear: () => esimGo.server.clearFaults(iccid),
      });
    } else {
      const id = `chaos${serial}${run.replaceAll('-', '')}`.slice(0, 40);
      stn.addActivation(activation(id, 'BUSY'));
      plans.push({
        key,
        operation: definition,
        handler,
        target: id,
        send: (h, d, k) =>
          invoke(h, d, {
            method: 'POST',
            path: `/v1/stn/activations/${id}/cancel`,
            headers: { 'Idempotency-Key': k },
            timeoutMs: LAMBDA_BUDGET_MS,
          }),
        effects: () => stn.cancellations().filter((effect) => effect.activationId === id).length,
        providerFault: (fault) =>
          stn.server.injectFault({ ...fault, path: '/api/CancelNewSubscription', matching: id }),
        clear: () => stn.server.clearFaults(id),
      });
    }
  }
  report.keys = plans.length;

  const inject = (plan: KeyPlan, fault: FaultName) => {
    plan.clear();
    clearDynamoDBFaults(plan.target);
    report.faults[fault] = (report.faults[fault] ?? 0) + 1;
    switch (fault) {
      case 'none':
        return;
      case 'apply-then-hang':
        return plan.providerFault({ kind: 'apply-then-hang' });
      case 'apply-then-500':
        return plan.providerFault({ kind: 'apply-then-status', status: 500 });
      case '500':
        return plan.providerFault({ kind: 'status', status: 500 });
      case 'apply-then-reset':
        return plan.providerFault({ kind: 'apply-then-reset' });
      case 'reset':
        return plan.providerFault({ kind: 'reset' });
      case '429':
        return plan.providerFault({ kind: 'status', status: 429, retryAfterSeconds: 0 });
      case 'slow-success':
        return plan.providerFault({ kind: 'delay', latencyMs: Math.floor(options.upstreamTimeoutMs * 0.8) });
      case 'dynamodb-after-success':
        return failIdempotencyResultWrite(plan.target);
    }
  };

  const drive = async (plan: KeyPlan, index: number) => {
    const next = random(options.seed * 7919 + index);
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      const fault: FaultName = next() < 0.35 ? 'none' : (FAULTS[Math.floor(next() * FAULTS.length)] as FaultName);
      inject(plan, fault);
      report.requests += 1;
      const answer = await plan.send(plan.handler, plan.operation, plan.key).catch((): Answer => {
        report.lambdaTimeouts += 1;
        return { status: 504, headers: {}, body: { type: 'lambda-timeout' } };
      });
      if (process.env.CHAOS_TRACE === String(index))
        console.error(
          `key ${index} attempt ${attempt}: ${fault} -> ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)} effects=${plan.effects()}`,
        );
      const final =
        answer.status === 200
          ? String(answer.body.status)
          : answer.status === 422
            ? `rejected:${String(answer.body.type).split('/').pop()}`
            : undefined;
      if (final !== undefined) {
        plan.clear();
        clearDynamoDBFaults(plan.target);
        report.finals[final] = (report.finals[final] ?? 0) + 1;
        if (answer.body.reconciled === true) report.reconciledAnswers += 1;
        const effects = plan.effects();
        if (effects > 1) report.doubleEffects += 1;
        const truthful = answer.status === 200 ? effects === 1 : effects === 0;
        if (!truthful) report.untruthful.push({ key: plan.key, operation: plan.operation.name, final, effects });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(40 * attempt, 400)));
    }
    report.unfinished.push(plan.key);
  };

  let cursor = 0;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (cursor < plans.length) {
        const index = cursor;
        cursor += 1;
        await drive(plans[index] as KeyPlan, index);
      }
    }),
  );
  report.durationMs = Date.now() - started;
  return report;
};
