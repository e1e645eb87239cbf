/**
 * Spaces request starts so that at most `perSecond` begin in any rolling second within this process; below one per
 * second (Monogoto's 60 a minute shared by five containers), at most one per `1 / perSecond` seconds.
 * Hand-written because it is a dozen lines and the well-known limiters (bottleneck, p-throttle) would add a
 * dependency to every bundle for it; the fleet-wide limit comes from the functions' reserved concurrency.
 */
/** The share of each window left unused (see acquire). */
export const SAFETY_MARGIN = 0.05;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RateLimiter {
  #starts: number[] = [];

  constructor(
    readonly perSecond: number,
    readonly now: () => number = Date.now,
  ) {}

  async acquire(): Promise<void> {
    // A twentieth of each window is left unused: the provider counts arrivals in fixed seconds, and network jitter
    // between two starts a window apart could otherwise put one start too many into one of them (a 429).
    const windowMs = (this.perSecond >= 1 ? 1000 : 1000 / this.perSecond) * (1 + SAFETY_MARGIN);
    const allowed = Math.max(Math.floor(this.perSecond), 1);
    for (;;) {
      const now = this.now();
      while ((this.#starts[0] ?? Number.POSITIVE_INFINITY) <= now - windowMs) this.#starts.shift();
      if (this.#starts.length < allowed) {
        this.#starts.push(now);
        return;
      }
      await sleep((this.#starts[0] ?? now) + windowMs - now);
    }
  }
}
