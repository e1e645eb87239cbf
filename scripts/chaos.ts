/**
 * `npm run chaos`: the full chaos run (100 keys per operation by default, `--keys N`, `--seed N`), with and
 * without reconciliation, against DynamoDB Local and the three simulators. Prints the figures and writes
 * docs/chaos.md.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.js';
import { useScriptEnvironment } from '../test/support/script-env.js';

const { values } = parseArgs({ options: { keys: { type: 'string', default: '100' }, seed: { type: 'string', default: '20261126' } } });
const keysPerOperation = Number(values.keys);
const seed = Number(values.seed);
const UPSTREAM_TIMEOUT_MS = 200;

useScriptEnvironment('chaos', {
  UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
  // The assumption reconciliation rests on: the provider applies nothing sent longer ago than this.
  RECONCILE_AFTER_MS: '1000',
  ESIM_GO_REQUESTS_PER_SECOND: '1000',
});

const dynamo = await startDynamoDbLocal();
try {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const { configureEnvironment, newTable, startEsimGo, startMonogoto, startStn } = await import('../test/support/harness.js');
  const { runChaos } = await import('../test/chaos/chaos.js');
  configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await newTable(dynamo.endpoint) });
  const [monogoto, esimGo, stn] = await Promise.all([startMonogoto({ seed: false }), startEsimGo({ seed: false, requestsPerSecond: 10_000 }), startStn({ seed: false, requestsPerSecond: 10_000 })]);
  const simulators = { monogoto, esimGo, stn };
  const options = { seed, keysPerOperation, concurrency: 20, upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS };
  const on = await runChaos(simulators, { ...options, reconcile: true });
  const off = await runChaos(simulators, { ...options, reconcile: false });
  await Promise.all(Object.values(simulators).map((simulator) => simulator.server.stop()));

  const row = (label: string, report: typeof on) =>
    `| ${label} | ${report.keys} | ${report.requests} | ${Object.entries(report.finals).map(([name, count]) => `${name} ${count}`).join(', ')} | ${report.reconciledAnswers} | ${report.doubleEffects} | ${report.untruthful.length} | ${report.unfinished.length} | ${(report.durationMs / 1000).toFixed(1)} s |`;
  const markdown = [
    '# Chaos run',
    '',
    `Measured with \`npm run chaos -- --keys ${keysPerOperation} --seed ${seed}\` on ${new Date().toISOString().slice(0, 10)} (DynamoDB Local, simulators over HTTP,`,
    `UPSTREAM_TIMEOUT_MS=${UPSTREAM_TIMEOUT_MS}, RECONCILE_AFTER_MS=1000, 20 keys in flight). Every request met a random fault: ${Object.entries(on.faults).map(([name, count]) => `${name} ${count}`).join(', ')}.`,
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
  ].join('\n');
  writeFileSync('docs/chaos.md', markdown);
  process.stdout.write(`${markdown}\n`);
  process.stdout.write(`lambda timeouts: on ${on.lambdaTimeouts}, off ${off.lambdaTimeouts}\nuntruthful (on): ${JSON.stringify(on.untruthful)}\n`);
  if (on.doubleEffects > 0 || on.untruthful.length > 0 || on.unfinished.length > 0) process.exitCode = 1;
} finally {
  dynamo.stop();
}
