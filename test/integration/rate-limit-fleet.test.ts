/**
 * The fleet's rate limit, counted in DynamoDB (RATE_LIMIT_SCOPE=fleet, as deployed): several containers' limiters
 * sharing eSIM Go's windows on DynamoDB Local keep the simulator, which enforces 10 requests in each fixed second,
 * from ever answering 429, where the same containers each counting alone are throttled.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GUARD_MS, RateLimiter, inProcessWindows, sendPaced } from '../../shared/providers/rate-limit.js';
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

  it('gives a 429 of the gateway\u2019s own with Retry-After, and sends nothing, when no start comes within half the timeout', async () => {
    const limiter = new RateLimiter(1);
    expect(await limiter.acquire()).toBeDefined();
    const before = simulator.server.calls.length;
    const result = await sendPaced(limiter, {
      method: 'GET',
      url: `${process.env.ESIM_GO_BASE_URL}/esims/89440000000000000000`,
      headers: { 'x-api-key': process.env.ESIM_GO_API_KEY ?? '' },
      timeoutMs: 200,
    });
    expect(result).toMatchObject({
      kind: 'answered',
      status: 429,
      body: { message: expect.stringContaining('gateway') },
    });
    expect(Number((result as { headers: Headers }).headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(simulator.server.calls.length).toBe(before);
  });

  it('counts the start again, in both windows, when the write-ahead record runs into the guard', async () => {
    const counter = inProcessWindows();
    let takes = 0;
    const counting = {
      take: (start: number, allowed: number) => ((takes += 1), counter.take(start, allowed)),
      fill: counter.fill,
    };
    const limiter = new RateLimiter(10, { counter: counting });
    // Just before a second's guard: the start is given at once, the record written before sending takes 200 ms.
    await new Promise((resolve) => setTimeout(resolve, (1000 - GUARD_MS - 80 - (Date.now() % 1000) + 1000) % 1000));
    let sentAt = 0;
    const result = await sendPaced(
      limiter,
      {
        method: 'GET',
        url: `${process.env.ESIM_GO_BASE_URL}/esims/89440000000000000000`,
        headers: { 'x-api-key': process.env.ESIM_GO_API_KEY ?? '' },
        timeoutMs: 4000,
      },
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        sentAt = Date.now();
      },
    );
    expect(result.kind).toBe('answered');
    // The first start's window, then (the record ended inside its guard) that window and the next once more: the
    // request went out at once, counted in both seconds it could arrive in.
    expect(takes).toBe(3);
    expect(sentAt % 1000).toBeGreaterThanOrEqual(1000 - GUARD_MS);
    const arrived = simulator.server.calls.at(-1)?.at ?? 0;
    expect(arrived - sentAt).toBeLessThan(GUARD_MS);
  });
});
