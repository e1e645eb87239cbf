/**
 * Spaces request starts so that at most `perSecond` begin in any rolling second within this process.
 * Hand-written because it is a dozen lines and the well-known limiters (bottleneck, p-throttle) would add a
 * dependency to every bundle for it; the fleet-wide limit comes from the functions' reserved concurrency.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RateLimiter {
  #starts: number[] = [];

  constructor(
    readonly perSecond: number,
    readonly now: () => number = Date.now,
  ) {}

  async acquire(): Promise<void> {
    for (;;) {
      const now = this.now();
      while ((this.#starts[0] ?? Number.POSITIVE_INFINITY) <= now - 1000) this.#starts.shift();
      if (this.#starts.length < this.perSecond) {
        this.#starts.push(now);
        return;
      }
      await sleep((this.#starts[0] ?? now) + 1000 - now);
    }
  }
}
