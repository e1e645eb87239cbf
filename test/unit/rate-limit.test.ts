/** The per-container limiter: whole requests per second, and fractions of one (Monogoto's 60 a minute over 5). */
import { describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../shared/providers/rate-limit.js';

/** When each of `count` acquisitions started, on a fake clock. */
const starts = async (limiter: RateLimiter, count: number) => {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const acquired = limiter.acquire().then(() => times.push(Date.now()));
    await vi.runAllTimersAsync();
    await acquired;
  }
  return times.map((time) => time - (times[0] ?? 0));
};

describe('RateLimiter', () => {
  it('lets `perSecond` start in any window of a second and a twentieth, the next one a window after the first', async () => {
    vi.useFakeTimers({ now: 0 });
    expect(await starts(new RateLimiter(2), 5)).toEqual([0, 0, 1050, 1050, 2100]);
    vi.useRealTimers();
  });

  it('spaces starts 1 / perSecond seconds (and a twentieth) apart below one a second', async () => {
    vi.useFakeTimers({ now: 0 });
    expect(await starts(new RateLimiter(0.2), 3)).toEqual([0, 5250, 10_500]);
    vi.useRealTimers();
  });
});
