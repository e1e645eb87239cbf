/**
 * Paces request starts in the provider's own windows. eSIM Go counts requests in fixed one-second windows (its
 * `X-Ratelimit-Reset` is the end of the current one): a limiter that only spaces starts a rolling second apart can still
 * put one request too many into one of those seconds, because a start late in one window may arrive in the next. So
 * this one counts in the same fixed windows (on the clock's whole seconds, which the provider's follow when both keep
 * NTP time), and a start in the last GUARD_MS of a window is counted in that window and the next: wherever it
 * arrives, it was counted there.
 *
 * Where the count lives is the WindowCounter: in this process (one process is the whole fleet: `npm start`, the
 * tests, the benchmarks), or in DynamoDB for the deployed fleet (shared/rate-windows.ts), so every container of every
 * function of a provider shares one budget instead of a fixed share each.
 *
 * Hand-written because the well-known limiters (bottleneck, p-throttle) count rolling intervals in one process, and
 * neither aligns to the provider's windows nor shares a budget across Lambda containers without Redis.
 */
import { type HttpRequest, type HttpResult, sendHttp } from './http.js';

/**
 * A start this close to the end of a window may arrive in the next one (the way to the provider: a new connection's
 * TCP and TLS handshakes, the write-ahead record written just before a write), so it is counted in both.
 */
export const GUARD_MS = 300;

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
  /** Windows this process has seen full: no point asking the counter again for them. */
  readonly #full = new Set<number>();
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
   * Waits for a start: the time by which the request must have gone out, or undefined when none came within
   * `maxWaitMs` or before the deadline (then nothing may be sent). A start in a window's last GUARD_MS may arrive in the
   * next window, so it is counted in both: it never waits while both have room. A counter that fails throws: the
   * caller sends nothing.
   */
  async acquire(options: AcquireOptions = {}): Promise<number | undefined> {
    const giveUpAt = this.#now() + (options.maxWaitMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      if (options.signal?.aborted === true) return undefined;
      const now = this.#now();
      let wakeAt = this.#blockedUntil;
      if (now >= this.#blockedUntil) {
        const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
        const windows = [windowStart];
        if (now >= windowStart + this.windowMs - GUARD_MS) windows.push(windowStart + this.windowMs);
        const full = await this.#takeEach(windows);
        const sendBy = (windows.at(-1) as number) + this.windowMs - GUARD_MS;
        // Taken: go, unless the counter answered so late that the start now belongs to a later window too.
        if (full === undefined && this.#now() < sendBy) return sendBy;
        wakeAt = full === undefined ? this.#now() : full + this.windowMs;
      }
      if (wakeAt > giveUpAt) return undefined;
      await sleep(Math.max(wakeAt - this.#now(), 0), options.signal);
    }
  }

  /** Takes a start of each window in turn; the first that is full, or undefined when every one gave a start. */
  async #takeEach(windows: readonly number[]): Promise<number | undefined> {
    for (const known of this.#full) if (known < (windows[0] as number)) this.#full.delete(known);
    for (const windowStart of windows) {
      if (this.#full.has(windowStart)) return windowStart;
      if (!(await this.#counter.take(windowStart, this.allowed))) {
        this.#full.add(windowStart);
        return windowStart;
      }
    }
    return undefined;
  }

  /** When the next start could come at the earliest: for a Retry-After when none came in time. */
  nextStartAt(): number {
    const now = this.#now();
    return Math.max(Math.floor(now / this.windowMs) * this.windowMs + this.windowMs, this.#blockedUntil);
  }

  /**
   * The provider answered 429: nothing more starts in this window (here and, through the counter, in the fleet), nor
   * before `resetAt` when the provider said when its window ends (eSIM Go's `X-Ratelimit-Reset`, or `Retry-After`).
   */
  async throttled(resetAt?: number): Promise<void> {
    const now = this.#now();
    const windowStart = Math.floor(now / this.windowMs) * this.windowMs;
    this.#full.add(windowStart);
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
 * calls of UPSTREAM_TIMEOUT_MS each), and is at most half of it, so the request keeps the other half. No start in
 * time and nothing is sent: the answer is then a 429 of the gateway's own (its body says so), which the clients read
 * as throttled, so the caller gets a 503 with Retry-After and a batch item is put back. A counter that cannot be reached
 * and nothing is sent either. A 429 from the provider tells the limiter, which slows the fleet down.
 */
export const sendPaced = async (
  limiter: RateLimiter | undefined,
  request: HttpRequest,
  beforeSend?: () => Promise<void>,
): Promise<HttpResult> => {
  if (limiter === undefined) {
    await beforeSend?.();
    return sendHttp(request);
  }
  const askedAt = Date.now();
  const maxWaitMs = Math.floor(request.timeoutMs / 2);
  const start = async (waitMs: number) => {
    try {
      return { sendBy: await limiter.acquire({ maxWaitMs: waitMs, signal: request.signal }) };
    } catch (error) {
      return { failed: error as Error };
    }
  };
  let started = await start(maxWaitMs);
  if (started.sendBy !== undefined) {
    await beforeSend?.();
    // The write-ahead record took too long to start in this window: take another start rather than send late.
    if (Date.now() >= started.sendBy) started = await start(Math.max(askedAt + maxWaitMs - Date.now(), 0));
  }
  if (started.failed !== undefined)
    return { kind: 'not_sent', reason: `the rate-limit windows could not be read (${started.failed.name})` };
  if (started.sendBy === undefined) return noStartInTime(limiter, maxWaitMs);
  const result = await sendHttp({ ...request, timeoutMs: Math.max(request.timeoutMs - (Date.now() - askedAt), 1) });
  if (result.kind === 'answered' && result.status === 429) await limiter.throttled(throttledUntil(result.headers));
  return result;
};

/** The gateway's own 429: the provider's limit left no start in time, and nothing was sent. */
const noStartInTime = (limiter: RateLimiter, maxWaitMs: number): HttpResult => {
  const retryAfterSeconds = Math.max(Math.ceil((limiter.nextStartAt() - Date.now()) / 1000), 1);
  const message = `sim-cancel-gateway: the provider's rate limit left no start within ${maxWaitMs} ms; nothing was sent`;
  return {
    kind: 'answered',
    status: 429,
    headers: new Headers({ 'retry-after': String(retryAfterSeconds) }),
    body: { message, error: message },
    bodyIsJson: true,
  };
};
