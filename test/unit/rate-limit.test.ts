/** The limiter: starts counted in the provider's fixed windows, none in a window's last GUARD_MS, shared counters. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  GUARD_MS,
  RateLimiter,
  type WindowCounter,
  inProcessWindows,
  throttledUntil,
} from '../../shared/providers/rate-limit.js';

afterEach(() => vi.useRealTimers());

/** Starts `count` acquisitions at once and runs the fake clock until all have started; their start times. */
const startAll = async (limiters: RateLimiter[], count: number) => {
  const started: number[] = [];
  const all = Array.from({ length: count }, (_, index) =>
    (limiters[index % limiters.length] as RateLimiter).acquire().then((ok) => {
      expect(ok).toBe(true);
      started.push(Date.now());
    }),
  );
  await vi.runAllTimersAsync();
  await Promise.all(all);
  return started;
};

/** How many starts fell into each fixed window of `windowMs`. */
const perWindow = (starts: number[], windowMs = 1000) => {
  const counts = new Map<number, number>();
  for (const start of starts)
    counts.set(Math.floor(start / windowMs), (counts.get(Math.floor(start / windowMs)) ?? 0) + 1);
  return [...counts.values()];
};

describe('RateLimiter', () => {
  it('lets `perSecond` start in each of the fixed seconds, the rest at the next second', async () => {
    vi.useFakeTimers({ now: 10_000 });
    const started = await startAll([new RateLimiter(10)], 25);
    expect(started.map((time) => time - 10_000)).toEqual([
      ...Array.from({ length: 10 }, () => 0),
      ...Array.from({ length: 10 }, () => 1000),
      ...Array.from({ length: 5 }, () => 2000),
    ]);
  });

  it('starts nothing in the last GUARD_MS of a window: a start arrives in the window it was counted in', async () => {
    vi.useFakeTimers({ now: 10_000 + 1000 - GUARD_MS + 1 });
    const started = await startAll([new RateLimiter(10)], 3);
    expect(started).toEqual([11_000, 11_000, 11_000]);
  });

  it('keeps limiters sharing one counter (containers sharing the fleet windows) under the limit together', async () => {
    vi.useFakeTimers({ now: 20_500 });
    const counter = inProcessWindows();
    const containers = Array.from({ length: 4 }, () => new RateLimiter(10, { counter }));
    const started = await startAll(containers, 60);
    expect(Math.max(...perWindow(started))).toBe(10);
    for (const start of started) expect(start % 1000).toBeLessThan(1000 - GUARD_MS);
    // Without the shared counter each container would take the whole limit: 40 in the first second.
    const apart = await startAll(
      Array.from({ length: 4 }, () => new RateLimiter(10)),
      60,
    );
    expect(Math.max(...perWindow(apart))).toBe(40);
  });

  it('gives up (false) rather than wait longer than maxWaitMs, or once the deadline aborts', async () => {
    vi.useFakeTimers({ now: 30_000 });
    const limiter = new RateLimiter(1);
    expect(await limiter.acquire()).toBe(true);
    const impatient = limiter.acquire({ maxWaitMs: 500 });
    await vi.runAllTimersAsync();
    expect(await impatient).toBe(false);
    const deadline = new AbortController();
    const cut = limiter.acquire({ signal: deadline.signal });
    await vi.advanceTimersByTimeAsync(100);
    deadline.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(await cut).toBe(false);
    expect(Date.now()).toBe(30_100);
  });

  it('after a 429 fills the window for the fleet and starts nothing before the reset', async () => {
    vi.useFakeTimers({ now: 40_100 });
    const counter = inProcessWindows();
    const limiter = new RateLimiter(10, { counter });
    const other = new RateLimiter(10, { counter });
    expect(await limiter.acquire()).toBe(true);
    await limiter.throttled(42_000);
    // The other container asks the shared counter, which the 429 filled: its next start is the next second.
    const [otherStart] = await startAll([other], 1);
    expect(otherStart).toBe(41_000);
    const [afterReset] = await startAll([limiter], 1);
    expect(afterReset).toBe(42_000);
  });

  it('does not believe a reset more than a minute away', async () => {
    vi.useFakeTimers({ now: 50_000 });
    const limiter = new RateLimiter(10);
    await limiter.throttled(50_000 + 3_600_000);
    const [start] = await startAll([limiter], 1);
    expect(start).toBe(110_000);
  });

  it('below one a second, allows one start per 1 / perSecond seconds', async () => {
    vi.useFakeTimers({ now: 0 });
    expect(await startAll([new RateLimiter(0.2)], 3)).toEqual([0, 5000, 10_000]);
  });

  it('does not start late when the counter answers after the guard began: it waits for the next window', async () => {
    vi.useFakeTimers({ now: 60_000 });
    let calls = 0;
    const slow: WindowCounter = {
      take: async () => {
        calls += 1;
        // The first answer comes back 900 ms later, inside the guard.
        if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 900));
        return true;
      },
      fill: async () => undefined,
    };
    const [start] = await startAll([new RateLimiter(10, { counter: slow })], 1);
    expect(start).toBe(61_000);
    expect(calls).toBe(2);
  });

  it('reads when the window resets from X-Ratelimit-Reset, else Retry-After', () => {
    expect(throttledUntil(new Headers({ 'x-ratelimit-reset': '2026-12-01T10:00:01.000Z' }))).toBe(
      Date.parse('2026-12-01T10:00:01.000Z'),
    );
    expect(throttledUntil(new Headers({ 'retry-after': '2' }), 1000)).toBe(3000);
    expect(throttledUntil(new Headers({}), 1000)).toBeUndefined();
  });
});
