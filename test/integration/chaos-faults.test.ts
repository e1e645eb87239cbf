/**
 * A small chaos run in every `npm test` (the full one is `npm run chaos`): random faults on every request, the
 * client retrying each key until it gets a final answer, verdicts from the simulators' own effect records.
 * The same traffic without reconciliation must show the double effects it prevents.
 */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type ChaosSimulators, runChaos } from '../../testkit/chaos/chaos.js';
import { configureEnvironment, newTable, startEsimGo, startMonogoto, startStn } from '../../testkit/harness.js';

const UPSTREAM_TIMEOUT_MS = 200;
let simulators: ChaosSimulators;

beforeAll(async () => {
  const [monogoto, esimGo, stn] = await Promise.all([
    startMonogoto({ seed: false }),
    startEsimGo({ seed: false, requestsPerSecond: 10_000 }),
    startStn({ seed: false, requestsPerSecond: 10_000 }),
  ]);
  simulators = { monogoto, esimGo, stn };
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    RECONCILE_AFTER_MS: '1000',
    ESIM_GO_REQUESTS_PER_SECOND: '1000',
  });
});
afterAll(async () => Promise.all(Object.values(simulators).map((simulator) => simulator.server.stop())));

it(
  'keeps every key to one provider effect and every final answer truthful under random faults',
  { timeout: 120_000 },
  async () => {
    const report = await runChaos(simulators, {
      seed: 20261126,
      keysPerOperation: 12,
      concurrency: 12,
      reconcile: true,
      upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS,
    });
    console.log(`chaos (reconciliation on): ${JSON.stringify(report)}`);
    expect(report.unfinished).toEqual([]);
    expect(report.doubleEffects).toBe(0);
    expect(report.untruthful).toEqual([]);
    expect(report.reconciledAnswers).toBeGreaterThan(0);
    expect(Object.keys(report.faults).length).toBeGreaterThanOrEqual(8);
  },
);

it(
  'shows the double effects when reconciliation is switched off (the same traffic, always re-sending)',
  { timeout: 120_000 },
  async () => {
    const report = await runChaos(simulators, {
      seed: 20261126,
      keysPerOperation: 12,
      concurrency: 12,
      reconcile: false,
      upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS,
    });
    console.log(`chaos (reconciliation off): ${JSON.stringify(report)}`);
    expect(report.doubleEffects + report.untruthful.length).toBeGreaterThan(0);
    expect(report.doubleEffects).toBeGreaterThan(0);
  },
);
