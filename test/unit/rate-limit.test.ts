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
    (limiters[index % limiters.length] as RateLimiter).acquire().then((sendBy) => {
      // The request must go out before its window's guard begins.
      expect(sendBy).toBeGreaterThan(Date.now());
      expect(((sendBy as number) + GUARD_MS) % (limiters[0] as RateLimiter).windowMs).toBe(0);
      started.push(Date.now());
    }),
  );
  await vi.runAllTimersAsync();
  await Promise.all(all);
  return started;
};

/**
 * The most calls each fixed second could receive if every call arrives up to GUARD_MS after its start: a start in a
 * second's last GUARD_MS may land in either second, so it counts for both.
 */
const arrivalsPerWindow = (starts: number[]) => {
  const counts = new Map<number, number>();
  const add = (second: number) => counts.set(second, (counts.get(second) ?? 0) + 1);
  for (const start of starts) {
    add(Math.floor(start / 1000));
    if (Math.floor((start + GUARD_MS) / 1000) !== Math.floor(start / 1000)) add(Math.floor(start / 1000) + 1);
  }
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

  it('counts a start in the last GUARD_MS of a window in that window and the next: wherever it arrives, it was counted', async () => {
    const guardStart = 10_000 + 1000 - GUARD_MS + 1;
    vi.useFakeTimers({ now: guardStart });
    const limiter = new RateLimiter(10);
    // Both windows have room: they go at once.
    expect(await startAll([limiter], 3)).toEqual([guardStart, guardStart, guardStart]);
    // The next window already holds those three: seven more go now, the last three a window later.
    const more = await startAll([limiter], 10);
    expect(more.filter((time) => time === guardStart)).toHaveLength(7);
    expect(more.filter((time) => time === 12_000)).toHaveLength(3);
  });

  it('keeps limiters sharing one counter (containers sharing the fleet windows) under the limit together', async () => {
    vi.useFakeTimers({ now: 20_500 });
    const counter = inProcessWindows();
    const containers = Array.from({ length: 4 }, () => new RateLimiter(10, { counter }));
    const started = await startAll(containers, 60);
    expect(Math.max(...arrivalsPerWindow(started))).toBe(10);
    // Without the shared counter each container would take the whole limit: 40 in the first second.
    const apart = await startAll(
      Array.from({ length: 4 }, () => new RateLimiter(10)),
      60,
    );
    expect(Math.max(...arrivalsPerWindow(apart))).toBe(40);
  });

  it('gives up (undefined) rather than wait longer than maxWaitMs, or once the deadline aborts', async () => {
    vi.useFakeTimers({ now: 30_000 });
    const limiter = new RateLimiter(1);
    expect(await limiter.acquire()).toBeDefined();
    const impatient = limiter.acquire({ maxWaitMs: 500 });
    await vi.runAllTimersAsync();
    expect(await impatient).toBeUndefined();
    const deadline = new AbortController();
    const cut = limiter.acquire({ signal: deadline.signal });
    await vi.advanceTimersByTimeAsync(100);
    deadline.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(await cut).toBeUndefined();
    expect(Date.now()).toBe(30_100);
  });

  it('after a 429 fills the window for the fleet and starts nothing before the reset', async () => {
    vi.useFakeTimers({ now: 40_100 });
    const counter = inProcessWindows();
    const limiter = new RateLimiter(10, { counter });
    const other = new RateLimiter(10, { counter });
    expect(await limiter.acquire()).toBeDefined();
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

  it('does not start unaccounted when the counter answers after the guard began: it takes the next window too', async () => {
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
    // The answer came inside the guard: the start also takes the next window (counted in both), then goes.
    expect(start).toBe(60_900);
    expect(calls).toBe(3);
  });

  it('reads when the window resets from X-Ratelimit-Reset, else Retry-After', () => {
    expect(throttledUntil(new Headers({ 'x-ratelimit-reset': '2026-12-01T10:00:01.000Z' }))).toBe(
      Date.parse('2026-12-01T10:00:01.000Z'),
    );
    expect(throttledUntil(new Headers({ 'retry-after': '2' }), 1000)).toBe(3000);
    expect(throttledUntil(new Headers({}), 1000)).toBeUndefined();
  });
});
