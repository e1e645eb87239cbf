/**
 * 1,000 requests over 100 keys at concurrency 50 through the local runner (in this process, embedded dynalite),
 * against the sTN simulator answering with random latency: exactly 100 provider effects, and every answer a success,
 * a replay or a 409. Also scans everything logged for the sandbox credentials.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalGateway } from '../../infra/local/runner.js';
import { ESIM_GO_SANDBOX_API_KEY } from '../../sandbox/esim-go/simulator.js';
import { MONOGOTO_SANDBOX_CREDENTIALS } from '../../sandbox/monogoto/simulator.js';
import { STN_SANDBOX_API_KEY, type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { runLoad } from '../../testkit/reliability/load.js';

let gateway: LocalGateway;
const logged: string[] = [];
const streams = [process.stdout, process.stderr] as const;
const originals = streams.map((stream) => stream.write.bind(stream));

beforeAll(async () => {
  Object.assign(process.env, {
    PORT: '0',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    MONOGOTO_BASE_URL: '',
    ESIM_GO_BASE_URL: '',
    STN_BASE_URL: '',
    DYNAMODB_ENDPOINT: '',
  });
  streams.forEach((stream, index) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logged.push(String(chunk));
      return (originals[index] as (...args: unknown[]) => boolean)(index === 0 ? '' : chunk, ...rest);
    }) as typeof stream.write;
  });
  const { startLocalGateway } = await import('../../infra/local/runner.js');
  gateway = await startLocalGateway({ port: 0 });
});

afterAll(async () => {
  streams.forEach((stream, index) => (stream.write = originals[index] as typeof stream.write));
  await gateway.stop();
});

it(
  'keeps 1,000 requests over 100 keys at concurrency 50 to exactly 100 provider effects',
  { timeout: 120_000 },
  async () => {
    const sandbox = gateway.sandboxes.find((candidate) => candidate.provider === 'stn');
    const stn = (sandbox as unknown as { simulator: StnSimulator }).simulator;
    const ids = Array.from({ length: 100 }, (_, index) => `load${String(index).padStart(4, '0')}x`);
    for (const id of ids) stn.addActivation(activation(id, 'BUSY'));
    stn.server.jitterMs = 50;
    const report = await runLoad({
      url: gateway.url,
      activationIds: ids,
      requests: 1000,
      concurrency: 50,
      effects: () =>
        new Map(
          ids.map((id) => [id, stn.cancellations().filter((cancellation) => cancellation.activationId === id).length]),
        ),
    });
    console.log(`load: ${JSON.stringify(report)}`);
    expect(report.effects).toBe(100);
    expect(report.keysWithOneEffect).toBe(100);
    expect(report.unexpected, JSON.stringify(report.problems)).toBe(0);
    expect(report.statuses['200']).toBeGreaterThan(100);

    const text = logged.join('');
    expect(text).toContain('operation answered');
    for (const secret of [MONOGOTO_SANDBOX_CREDENTIALS.password, ESIM_GO_SANDBOX_API_KEY, STN_SANDBOX_API_KEY])
      expect(text).not.toContain(secret);
  },
);
