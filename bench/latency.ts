/**
 * Added latency: a cancellation through the local runner (HTTP -> API Gateway event -> handler -> DynamoDB Local ->
 * simulator) against the same provider call made directly with the client, at 0 and 150 ms provider latency and
 * concurrency 1 and 20, measured side by side. Also the runner's peak RSS (VmHWM) after the load.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { StnClient } from '../shared/providers/stn/client.js';
import { STN_SANDBOX_API_KEY, activation, createStnSimulator } from '../sandbox/stn/simulator.js';
import { percentile } from './stats.js';

const startRunner = async (env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    env: { ...process.env, ...env, PORT: '0', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl+C')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`runner did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, url: /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string };
};

const run = async (count: number, concurrency: number, call: (index: number) => Promise<unknown>) => {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        const started = performance.now();
        await call(index);
        samples.push(performance.now() - started);
      }
    }),
  );
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
};

export const measureLatency = async (dynamoEndpoint: string) => {
  const simulator = createStnSimulator({ seed: false, requestsPerSecond: 1_000_000 });
  const simulatorUrl = await simulator.server.start();
  const { child, url } = await startRunner({
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    STN_BASE_URL: simulatorUrl,
    STN_API_KEY: STN_SANDBOX_API_KEY,
    MONOGOTO_BASE_URL: '',
    ESIM_GO_BASE_URL: '',
  });
  const client = new StnClient({ baseUrl: simulatorUrl, timeoutMs: 8000, apiKey: async () => STN_SANDBOX_API_KEY });
  let serial = 0;
  const fresh = () => {
    const id = `lat${(serial += 1)}x${Math.random().toString(36).slice(2, 8)}`;
    simulator.addActivation(activation(id, 'BUSY'));
    return id;
  };
  const rows = [];
  // Warm both paths (connections, JIT, the handler's init) before measuring.
  for (let index = 0; index < 20; index += 1) {
    await client.cancelNewSubscription({ activationId: fresh() });
    await fetch(`${url}/v1/stn/activations/${fresh()}/cancel`, {
      method: 'POST',
      headers: { 'idempotency-key': `warm-${serial}` },
    }).then((response) => response.text());
  }
  for (const latency of [0, 150]) {
    simulator.server.latencyMs = latency;
    for (const concurrency of [1, 20]) {
      const count = concurrency === 1 ? 40 : 200;
      const direct = await run(count, concurrency, () => client.cancelNewSubscription({ activationId: fresh() }));
      const gateway = await run(count, concurrency, async () => {
        const response = await fetch(`${url}/v1/stn/activations/${fresh()}/cancel`, {
          method: 'POST',
          headers: { 'idempotency-key': `bench-${serial}` },
        });
        if (response.status !== 200) throw new Error(`gateway answered ${response.status}: ${await response.text()}`);
      });
      rows.push({
        latency,
        concurrency,
        count,
        direct,
        gateway,
        ratio: gateway.p50 / direct.p50,
        addedMs: gateway.p50 - direct.p50,
      });
    }
  }
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const peakRssMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  child.kill('SIGTERM');
  await simulator.server.stop();
  return { rows, peakRssMb };
};
