/**
 * `npm run soak`: the reliability figures of docs/reliability.md. Fuzzes every operation route with 10,000 cases
 * (`--runs N`), then runs the load with duplicates (1,000 requests over 100 keys at concurrency 50) through the local
 * runner. Starts its own DynamoDB Local and simulators.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LoadReport } from '../testkit/reliability/load.js';
import type { StnSimulator } from '../sandbox/stn/simulator.js';
import { startDynamoDbLocal } from '../testkit/dynamodb-local.js';
import { useScriptEnvironment } from '../testkit/script-env.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '10000' }, phase: { type: 'string', default: 'all' } },
});
const runs = Number(values.runs);

/** The load runs in a fresh process: it needs the runner's own configuration, not the fuzz phase's cached one. */
const loadPhase = async () => {
  Object.assign(process.env, {
    PORT: '0',
    MONOGOTO_BASE_URL: '',
    ESIM_GO_BASE_URL: '',
    STN_BASE_URL: '',
    DYNAMODB_ENDPOINT: '',
  });
  const { startLocalGateway } = await import('../infra/local/runner.js');
  const { runLoad } = await import('../testkit/reliability/load.js');
  const { activation } = await import('../sandbox/stn/simulator.js');
  const gateway = await startLocalGateway({ port: 0 });
  const stn = gateway.sandboxes.find((sandbox) => sandbox.provider === 'stn')?.simulator as StnSimulator;
  const ids = Array.from({ length: 100 }, (_, index) => `soak${String(index).padStart(4, '0')}x`);
  for (const id of ids) stn.addActivation(activation(id, 'BUSY'));
  stn.server.jitterMs = 50;
  const load = await runLoad({
    url: gateway.url,
    activationIds: ids,
    requests: 1000,
    concurrency: 50,
    effects: () =>
      new Map(
        ids.map((id) => [id, stn.cancellations().filter((cancellation) => cancellation.activationId === id).length]),
      ),
  });
  await gateway.stop();
  process.stdout.write(`LOAD ${JSON.stringify(load)}\n`);
};
if (values.phase === 'load') {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  await loadPhase();
  process.exit(0);
}
useScriptEnvironment('soak', {
  UPSTREAM_TIMEOUT_MS: '2000',
  ESIM_GO_REQUESTS_PER_SECOND: '10000',
});

const dynamo = await startDynamoDbLocal();
const lines: string[] = [];
try {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const fc = (await import('fast-check')).default;
  const harness = await import('../testkit/harness.js');
  const { fuzzCase, holds, sendFuzzCase } = await import('../testkit/reliability/fuzz.js');
  const { createOperationHandler } = await import('../shared/handler.js');
  const operations = await (await import('../testkit/operations.js')).loadDefinitions();
  harness.configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await harness.newTable(dynamo.endpoint) });
  const simulators = await Promise.all([
    harness.startMonogoto(),
    harness.startEsimGo({ requestsPerSecond: 1_000_000 }),
    harness.startStn({ requestsPerSecond: 1_000_000 }),
  ]);
  const servers = simulators.map((simulator) => simulator.server);

  lines.push(
    '## Fuzzing',
    '',
    `${runs.toLocaleString('en')} random requests per route (fast-check, seed 20261126), through the local runner's API Gateway event translation and the real handler, against DynamoDB Local and the simulators.`,
    '',
    '| route | cases | 2xx | 4xx problem+json | 5xx | invalid inputs | provider calls for invalid input | property violations | duration |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const definition of operations) {
    const handler = createOperationHandler(definition) as never;
    const tally = { ok: 0, client: 0, server: 0, invalid: 0, leaked: 0, violations: 0 };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fuzzCase, async (input) => {
        const outcome = await sendFuzzCase(definition, handler, servers, input);
        if (outcome.status < 300) tally.ok += 1;
        else if (outcome.status < 500) tally.client += 1;
        else tally.server += 1;
        if (!outcome.validInput) tally.invalid += 1;
        if (!outcome.validInput && outcome.providerCalls > 0) tally.leaked += 1;
        const passed = holds(outcome);
        if (!passed) tally.violations += 1;
        return passed;
      }),
      { numRuns: runs, seed: 20261126 },
    );
    lines.push(
      `| ${definition.route.method} ${definition.route.path} | ${runs} | ${tally.ok} | ${tally.client} | ${tally.server} | ${tally.invalid} | ${tally.leaked} | ${tally.violations} | ${((Date.now() - started) / 1000).toFixed(1)} s |`,
    );
    process.stdout.write(`${lines.at(-1)}\n`);
  }
  await Promise.all(servers.map((server) => server.stop()));

  // Load with duplicates through the local runner (its own dynalite and sandboxes, as `npm start`), in a child process.
  const { execFileSync } = await import('node:child_process');
  const child = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/soak.ts', '--phase', 'load'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: '' },
  });
  const load = JSON.parse(/^LOAD (.*)$/m.exec(child)?.[1] ?? '{}') as LoadReport;
  lines.push(
    '',
    '## Load with duplicates',
    '',
    '1,000 requests over 100 keys (one sTN activation each) at concurrency 50, through the local runner over HTTP (embedded dynalite), the sTN sandbox answering after 0-50 ms at random. The client waits out a provider throttle (503 + Retry-After) and repeats the request.',
    '',
    '| requests | keys | provider effects | keys with exactly one effect | answers | replays | throttled and repeated | other answers | throughput | p50 | p99 |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${load.requests} | ${load.keys} | ${load.effects} | ${load.keysWithOneEffect} | ${Object.entries(load.statuses)
      .map(([status, count]) => `${status}: ${count}`)
      .join(
        ', ',
      )} | ${load.replays} | ${load.throttledRetries} | ${load.unexpected} | ${load.throughputPerSecond.toFixed(0)} req/s | ${load.p50Ms.toFixed(0)} ms | ${load.p99Ms.toFixed(0)} ms |`,
  );
} finally {
  dynamo.stop();
}

const markdown = [
  '# Reliability',
  '',
  `Measured with \`npm run soak -- --runs ${runs}\` on ${new Date().toISOString().slice(0, 10)} (2 cores, Node ${process.version}).`,
  '',
  ...lines,
  '',
  '## What else `npm test` proves (each test fails when the behaviour breaks)',
  '',
  '- Fuzzing a few hundred cases per route, plus the same property against a variant with validation switched off, which must fail (`test/integration/fuzz.test.ts`).',
  '- Dependency faults: DynamoDB unreachable, throttling the lock, failing on the attempt marker, failing after the provider call; Secrets Manager unreadable: 503, no provider call before the lock is held (`dependency-unavailable.test.ts`, `dependency-faults.test.ts`, `reconciliation.test.ts`). Provider slow, resetting, answering 5xx, garbage or HTML: mapped per the contract (`monogoto-client.test.ts`, the chaos run).',
  "- Security: logs scanned for the password, every issued token and raw idempotency keys (`logging.test.ts`), and for the three sandbox credentials under load (`load.test.ts`); same key from two callers gives independent operations (`cancel-esim.test.ts`) and neither can read the other's (`events.test.ts`); a bare CR in a header is refused with 400 before any handler (`local-runner.test.ts`); oversized bodies 413 (`request.test.ts`); `__proto__`/`constructor` keys in bodies, query names and headers stay data (found by the fuzzer, fixed).",
  '- `npm audit --omit=dev`: the registry here answered `405 Method Not Allowed` for the advisories endpoint on 2026-11-26, so no audit result could be had; run it where the registry answers.',
  '',
].join('\n');
writeFileSync('docs/reliability.md', markdown);
process.stdout.write(`${markdown}\n`);
