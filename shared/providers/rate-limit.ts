/**
 * Paces request starts in the provider's own windows. eSIM Go counts requests in fixed one-second windows (its
 * `X-Ratelimit-Reset` is the end of the current one): a limiter that only spaces starts a rolling second apart can still
 * put one request too many into one of those seconds, because a start late in one window may arrive in the next. So
 * this one counts in the same fixed windows (on the clock's whole seconds, which the provider's follow when both keep
 * NTP time), and starts nothing in the last GUARD_MS of a window: a start arrives in the window it was counted in.
 *
 * Where the count lives is the WindowCounter: in this process (one process is the whole fleet: `npm start`, the
 * tests, the benchmarks), or in DynamoDB for the deployed fleet (shared/rate-windows.ts), so every container of every
 * function of a provider shares one budget instead of a fixed share each.
 *
 * Hand-written because the well-known limiters (bottleneck, p-throttle) count rolling intervals in one process, and
 * neither aligns to the provider's windows nor shares a budget across Lambda containers without Redis.
 */
import { type HttpRequest, type HttpResult, sendHttp } from './http.js';

/** Starts nothing this close to the end of a window, so network delay cannot carry a start into the next one. */
export const GUARD_MS = 200;

export interface WindowCounter {
  /** Takes one of the `allowed` starts of the window beginning at `windowStart` (epoch ms); false if none is left. */
  take(windowStart: number, allowed: number): Promise<boolean>;
  /** The provider answered 429 in this window: nobody takes another start of it. */
  fill(windowStart: number, allowed: number): Promise<void>;
}

/** The count of one process. */
export const inProcessWindows = (): WindowCounter => {
  const taken = new Map<number, number>();
  const forgetBefore = (windowStart: number) => {
    for (const start of taken.keys()) if (start < windowStart) taken.delete(start);
  };
  return {
    take: async (windowStart, allowed) => {
      forgetBefore(windowStart);
      const used = taken.get(windowStart) ?? 0;
      if (used >= allowed) return false;
      taken.set(windowStart, used + 1);
      return true;
    },
    fill: async (windowStart, allowed) => {
      taken.set(windowStart, allowed);
    },
  };
};

export interface AcquireOptions {
  /** Give up (false) rather than wait longer than this for a start. */
  maxWaitMs?: number;
  /** The invocation's deadline: give up once it aborts. */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export class RateLimiter {
  /** A second, or for a rate under one a second (Monogoto's 60 a minute on a small share) the time one start takes. */
  readonly windowMs: number;
  /** Starts allowed in one window. */
  readonly allowed: number;
  readonly #counter: WindowCounter;
  readonly #now: () => number;
  /** Windows this process has seen full: no point asking the counter again before the next one. */
  #fullWindow = Number.NEGATIVE_INFINITY;
  /** After a 429: nothing starts before the provider's window resets. */
  #blockedUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly perSecond: number,
    options: { counter?: WindowCounter; now?: () => number } = {},
  ) {
    this.windowMs = perSecond >= 1 ? 1000 : Math.round(1000 / perSecond);
    this.allowed = Math.max(Math.floor(perSecond), 1);
    this.#counter = options.counter ?? inProcessWindows();
    this.#now = options.now ?? Date.now;
  }

  /**
   * Waits for a start: true when the request may go now, false when none came within `maxWaitMs` or before the
   * deadline (then nothing may be sent). A counter that fails throws: the caller sends nothing.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const giveUpAt = this.#now() + (options.maxWaitMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      if (options.signal?.aborted === true) return false;
      const now = this.#now();
      const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
      const windowEnd = windowStart + this.windowMs;
      const open = now >= this.#blockedUntil && now < windowEnd - GUARD_MS && this.#fullWindow !== windowStart;
      if (open) {
        if (await this.#counter.take(windowStart, this.allowed)) {
          // The counter's answer came back too late to start in this window: the start is given up, not sent late.
          if (this.#now() < windowEnd - GUARD_MS) return true;
        } else this.#fullWindow = windowStart;
      }
      const wakeAt = Math.max(windowEnd, this.#blockedUntil);
      if (wakeAt > giveUpAt) return false;
      await sleep(wakeAt - this.#now(), options.signal);
    }
  }

  /**
   * The provider answered 429: nothing more starts in this window (here and, through the counter, in the fleet), nor
   * before `resetAt` when the provider said when its window ends (eSIM Go's `X-Ratelimit-Reset`, or `Retry-After`).
   */
  async throttled(resetAt?: number): Promise<void> {
    const now = this.#now();
    const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
    this.#fullWindow = windowStart;
    // A reset further away than a minute is not believed: a clock or a header gone wrong must not stop the fleet.
    if (resetAt !== undefined && Number.isFinite(resetAt)) this.#blockedUntil = Math.min(resetAt, now + 60_000);
    await this.#counter.fill(windowStart, this.allowed).catch(() => undefined);
  }
}

/** When a 429 says the provider's window ends: `X-Ratelimit-Reset` (an ISO-8601 time), else `Retry-After` seconds. */
export const throttledUntil = (headers: Headers, now = Date.now()): number | undefined => {
  const reset = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  if (Number.isFinite(reset)) return reset;
  const seconds = Number(headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? now + seconds * 1000 : undefined;
};

/**
 * Sends once the limiter gives a start. The wait counts in the call's timeout (the function's time budget is sized in
 * calls of UPSTREAM_TIMEOUT_MS each), and is at most half of it, so the request keeps the other half; no start in
 * time, or a counter that cannot be reached, and nothing is sent. A 429 tells the limiter, which slows the fleet.
 */
export const sendPaced = async (
  limiter: RateLimiter | undefined,
  request: HttpRequest,
  beforeSend?: () => Promise<void>,
): Promise<HttpResult> => {
  let paced = request;
  if (limiter !== undefined) {
    const askedAt = Date.now();
    const maxWaitMs = Math.floor(request.timeoutMs / 2);
    let started: boolean;
    try {
      started = await limiter.acquire({ maxWaitMs, signal: request.signal });
    } catch (error) {
      return { kind: 'not_sent', reason: `the rate-limit windows could not be read (${(error as Error).name})` };
    }
    if (!started) return { kind: 'not_sent', reason: `the provider's rate limit left no start within ${maxWaitMs} ms` };
    paced = { ...request, timeoutMs: Math.max(request.timeoutMs - (Date.now() - askedAt), 1) };
  }
  await beforeSend?.();
  const result = await sendHttp(paced);
  if (result.kind === 'answered' && result.status === 429) await limiter?.throttled(throttledUntil(result.headers));
  return result;
};
