/**
 * The fleet's rate limit, counted in DynamoDB (RATE_LIMIT_SCOPE=fleet, as deployed): several containers' limiters
 * sharing eSIM Go's windows on DynamoDB Local keep the simulator, which enforces 10 requests in each fixed second,
 * from ever answering 429, where the same containers each counting alone are throttled.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RateLimiter, sendPaced } from '../../shared/providers/rate-limit.js';
import { fleetWindows } from '../../shared/rate-windows.js';
import type { EsimGoSimulator } from '../../sandbox/esim-go/simulator.js';
import { configureEnvironment, newTable, startEsimGo } from '../../testkit/harness.js';

let simulator: EsimGoSimulator;

beforeAll(async () => {
  const endpoint = inject('dynamoEndpoint');
  configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await newTable(endpoint), AWS_ENDPOINT_URL_DYNAMODB: endpoint });
  simulator = await startEsimGo({ seed: false, requestsPerSecond: 10 });
});
afterAll(async () => {
  await simulator.server.stop();
});

/** `calls` reads spread over the containers' limiters, all asked at once; the statuses eSIM Go answered. */
const readAll = async (containers: RateLimiter[], calls: number) => {
  const statuses = await Promise.all(
    Array.from({ length: calls }, async (_, index) => {
      const result = await sendPaced(containers[index % containers.length], {
        method: 'GET',
        url: `${process.env.ESIM_GO_BASE_URL}/esims/8944000000000000000${index % 10}`,
        headers: { 'x-api-key': process.env.ESIM_GO_API_KEY ?? '' },
        timeoutMs: 30_000,
      });
      return result.kind === 'answered' ? result.status : result.kind;
    }),
  );
  return { throttled: statuses.filter((status) => status === 429).length, statuses };
};

describe('the fleet rate limit (DynamoDB windows)', () => {
  it('keeps three containers together under eSIM Go\u2019s 10 requests/s: no 429, every call answered', async () => {
    const containers = Array.from({ length: 3 }, () => new RateLimiter(10, { counter: fleetWindows('esim-go') }));
    const started = Date.now();
    const { throttled, statuses } = await readAll(containers, 45);
    expect(throttled).toBe(0);
    expect(statuses.every((status) => typeof status === 'number')).toBe(true);
    // 45 calls at 10 a second take at least four whole seconds after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
  });

  it('is what makes the difference: the same containers each counting alone are throttled', async () => {
    const containers = Array.from({ length: 3 }, () => new RateLimiter(10));
    const { throttled } = await readAll(containers, 45);
    expect(throttled).toBeGreaterThan(0);
  });

  it('after a 429 from outside the fleet, no container starts again before the provider\u2019s window resets', async () => {
    const [first, second] = Array.from({ length: 2 }, () => new RateLimiter(10, { counter: fleetWindows('esim-go') }));
    // A fresh second, its whole budget spent outside the limiters (another client behind the same IP).
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    const second0 = Math.floor(Date.now() / 1000);
    await readAll([new RateLimiter(1000)], 10);
    expect((await readAll([first as RateLimiter], 1)).throttled).toBe(1);
    // The 429 filled the fleet's window: the other container waits for the next second, and is answered.
    const { throttled } = await readAll([second as RateLimiter], 1);
    expect(throttled).toBe(0);
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(second0);
  });
});
