/**
 * `npm run chaos`: the full chaos run (100 keys per operation by default, `--keys N`, `--seed N`), with and
 * without reconciliation, then the contention run (issue 14: `--contention-keys N` keys, default 1,000, on
 * `--contention-targets N` targets, default 50), with and without the target lease, against DynamoDB Local and the
 * three simulators. Prints the figures and writes docs/chaos.md; `--traces FILE` writes every violation's trace.
 * Exits non-zero when the product (reconciliation on, lease on) shows any violation.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from '../testkit/dynamodb-local.js';
import { useScriptEnvironment } from '../testkit/script-env.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100' },
    seed: { type: 'string', default: '20261126' },
    'contention-keys': { type: 'string', default: '1000' },
    'contention-targets': { type: 'string', default: '50' },
    'contention-seed': { type: 'string', default: '20261201' },
    traces: { type: 'string' },
  },
});
const keysPerOperation = Number(values.keys);
const seed = Number(values.seed);
const contentionKeys = Number(values['contention-keys']);
const contentionTargets = Number(values['contention-targets']);
const contentionSeed = Number(values['contention-seed']);
const UPSTREAM_TIMEOUT_MS = 200;
const RECONCILE_AFTER_MS = 1000;

useScriptEnvironment('chaos', {
  UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  // The assumption reconciliation rests on: the provider applies nothing sent longer ago than this.
  RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
  ESIM_GO_REQUESTS_PER_SECOND: '1000',
});

const dynamo = await startDynamoDbLocal();
try {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const { configureEnvironment, newTable, startEsimGo, startMonogoto, startStn } =
    await import('../testkit/harness.js');
  const { runChaos } = await import('../testkit/chaos/chaos.js');
  const { describeViolations, runContention } = await import('../testkit/chaos/contention.js');
  configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await newTable(dynamo.endpoint) });
  const [monogoto, esimGo, stn] = await Promise.all([
    startMonogoto({ seed: false }),
    startEsimGo({ seed: false, requestsPerSecond: 10_000 }),
    startStn({ seed: false, requestsPerSecond: 10_000 }),
  ]);
  const simulators = { monogoto, esimGo, stn };
  const options = { seed, keysPerOperation, concurrency: 20, upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS };
  const on = await runChaos(simulators, { ...options, reconcile: true });
  const off = await runChaos(simulators, { ...options, reconcile: false });
  const contention = {
    seed: contentionSeed,
    keys: contentionKeys,
    targets: contentionTargets,
    concurrency: 100,
    upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS,
    reconcileAfterMs: RECONCILE_AFTER_MS,
    keyDeadlineMs: 600_000,
  };
  const leaseOn = await runContention(simulators, { ...contention, lease: true });
  process.stdout.write(
    `contention, lease on: ${leaseOn.durationMs} ms, violations ${JSON.stringify(leaseOn.violations)}\n`,
  );
  const leaseOff = await runContention(simulators, { ...contention, lease: false });
  process.stdout.write(
    `contention, lease off: ${leaseOff.durationMs} ms, violations ${JSON.stringify(leaseOff.violations)}\n`,
  );
  await Promise.all(Object.values(simulators).map((simulator) => simulator.server.stop()));

  const row = (label: string, report: typeof on) =>
    `| ${label} | ${report.keys} | ${report.requests} | ${Object.entries(report.finals)
      .map(([name, count]) => `${name} ${count}`)
      .join(
        ', ',
      )} | ${report.reconciledAnswers} | ${report.doubleEffects} | ${report.untruthful.length} | ${report.unfinished.length} | ${(report.durationMs / 1000).toFixed(1)} s |`;
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);
  const others = (report: typeof leaseOn) =>
    report.violations['replay-differs'] +
    report.violations['unexpected-answer'] +
    report.violations['dead-lettered'] +
    report.violations['queue-answer-not-saved'] +
    report.violations['effect-after-answers'];
  const contentionRow = (label: string, report: typeof leaseOn) =>
    `| ${label} | ${report.keys} (${report.httpKeys} HTTP, ${report.queueKeys} SQS) | ${report.targets.esimGo + report.targets.stn + report.targets.monogoto} | ${report.requests} / ${report.deliveries} | ${list(report.finals)} | ${report.needsPerson} | ` +
    `${report.targetBusy} | ${total(report.faultsStruck)} | ${report.abandoned} | ${report.violations['double-effect']} | ${report.violations['success-without-own-effect']} | ${report.violations['shared-effect']} | ` +
    `${report.violations['esim-handed-back']} | ${others(report)} | ${report.violations.unfinished} | ${(report.durationMs / 1000).toFixed(1)} s |`;
  const markdown = [
    '# Chaos run',
    '',
    `Measured with \`npm run chaos -- --keys ${keysPerOperation} --seed ${seed}\` on ${new Date().toISOString().slice(0, 10)} (DynamoDB Local, simulators over HTTP,`,
    `UPSTREAM_TIMEOUT_MS=${UPSTREAM_TIMEOUT_MS}, RECONCILE_AFTER_MS=1000, 20 keys in flight). Every request met a random fault: ${Object.entries(
      on.faults,
    )
      .map(([name, count]) => `${name} ${count}`)
      .join(', ')}.`,
    'The client retried each key with the same Idempotency-Key until it got a final answer (200 or 422).',
    '',
    '| run | keys | requests | final answers | reconciled answers | keys with double effects | untruthful final answers | keys never finished | duration |',
    '|---|---|---|---|---|---|---|---|---|',
    row('reconciliation on (the product)', on),
    row('reconciliation off (always re-send)', off),
    '',
    'A double effect is a key for which the provider applied the write more than once (an eSIM Go revoke taking a second',
    'assignment); an untruthful answer is a success with no effect or more than one, or a rejection with an effect.',
    '',
    '## Contention (issue 14: exactly once and no stranded eSIM under contention)',
    '',
    `Measured with \`npm run chaos -- --contention-keys ${contentionKeys} --contention-targets ${contentionTargets} --contention-seed ${contentionSeed}\` on the same day and`,
    `settings: ${contentionKeys} keys on ${contentionTargets} targets (${leaseOn.targets.esimGo} eSIM Go eSIMs that are not installed, with two bundles and three to five unused`,
    `assignments; ${leaseOn.targets.stn} sTN activations, BUSY; ${leaseOn.targets.monogoto} Monogoto released eSIMs, some keys with a stale matchingId), keys of a target launched`,
    "together, 100 keys in flight, about 30 % of them as SQS records (a direct message to the operation's queue, redelivered when",
    'reported in `batchItemFailures`) and the rest over HTTP, 5 % of eSIM Go keys with `allowEsimReturn=true`. Every provider write on',
    'these targets meets a fault with probability 0.3 (lost answers applied up to 600 ms late, slow answers, 5xx before and after',
    'applying, hangs and resets after applying, 429), every read with 0.15 (slow stale answers, 500, 429), every DynamoDB command with',
    "0.03 (failures and latency; three times that on the answer's save), and 5 % of client attempts get a budget too short for a slow",
    'provider (abandoned executions). Clients retry with the same key and payload, honouring Retry-After at 250 ms per second. The',
    'lease-off run is the same traffic with every request its own lease (`lease: () => randomUUID()`). Verdicts come from the',
    "simulators' own records (testkit/chaos/contention.ts).",
    '',
    '| run | keys | targets | HTTP requests / SQS deliveries | final answers | needs a person | 409 target-busy | faults struck | abandoned executions | double effects | successes without their own effect | shared effects | eSIM handed back | other violations | unfinished | duration |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    contentionRow('lease on (the product)', leaseOn),
    contentionRow('lease off (every request its own target)', leaseOff),
    '',
    '- **keys**: idempotency keys, each one intended cancellation; **targets**: the eSIMs and activations they share.',
    '- **HTTP requests / SQS deliveries**: invocations while driving the keys (final replays not counted) and record deliveries, redeliveries included.',
    "- **final answers**: each key's last answer: `succeeded`/`in_progress` (200), `rejected:<type>` (422); `needs-person` is 409 `reconciliation-needed`.",
    '- **needs a person**: keys that ended 409 `reconciliation-needed` (final for the client; must be rare and never untrue).',
    '- **409 target-busy**: HTTP answers saying another key was working on the target or had left an attempt unresolved (retried).',
    '- **faults struck**: provider requests and DynamoDB commands that met a fault, as the simulators and the DynamoDB fault layer counted them.',
    '- **abandoned executions**: invocations middy answered at their deadline (TimeoutError) while the execution inside went on.',
    '- **double effects**: targets with more provider effects than succeeded keys (a key had two, or a rejected key had one), or an sTN key with two.',
    "- **successes without their own effect**: a success with no effect of its own (more successes than effects on a target; an eSIM Go success naming an assignment eSIM Go never revoked; an sTN success whose applied cancel carries another key's note).",
    '- **shared effects**: two eSIM Go successes naming the same revoked assignment (`plan.target.id`).',
    '- **eSIM handed back**: an eSIM that left the eSIM Go account although no request with `allowEsimReturn=true` for it succeeded.',
    '- **other violations**: a replay (the same key once more, after everything settled) that differs from the final answer, an unexpected final answer, a dead-lettered message, a queue record answered without a saved answer, or an effect that appeared after every key had its answer.',
    '- **unfinished**: keys without a final answer 600 s into the run.',
    '',
    `Lease on: answers ${list(leaseOn.answers)}; faults struck ${list(leaseOn.faultsStruck)}; Lambda containers ${leaseOn.containers}; most receives of one SQS key ${leaseOn.maxReceives}.`,
    `Lease off: answers ${list(leaseOff.answers)}; most receives of one SQS key ${leaseOff.maxReceives}.`,
    '',
  ].join('\n');
  writeFileSync('docs/chaos.md', markdown);
  process.stdout.write(`${markdown}\n`);
  process.stdout.write(
    `lambda timeouts: on ${on.lambdaTimeouts}, off ${off.lambdaTimeouts}\nuntruthful (on): ${JSON.stringify(on.untruthful)}\n`,
  );
  process.stdout.write(`${describeViolations(leaseOn, 10)}\n`);
  if (values.traces !== undefined)
    writeFileSync(
      values.traces,
      `# lease on\n${describeViolations(leaseOn, Infinity)}\n\n# lease off\n${describeViolations(leaseOff, Infinity)}\n`,
    );
  if (on.doubleEffects > 0 || on.untruthful.length > 0 || on.unfinished.length > 0) process.exitCode = 1;
  if (Object.values(leaseOn.violations).some((count) => count > 0)) process.exitCode = 1;
} finally {
  dynamo.stop();
}
