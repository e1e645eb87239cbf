/**
 * Monogoto eSIM client. Knows Monogoto's login, token lifetime and error shapes; knows nothing of Lambda.
 *
 * Login is `POST {base}/v1/auth/token`. The access token is cached in the client (so across invocations of
 * a warm container) until shortly before its `exp`; a 401 on a call made with a cached token triggers exactly one
 * re-login and one retry, which is safe because a 401 means Monogoto did not process the call. A 401 right after a
 * fresh login is final (the credentials are refused): so the longest chain is three calls (cancel, login, cancel),
 * which the function timeout is sized for (`maxSequentialCalls`). The refresh endpoint is not
 * used: refresh tokens are single-use, so concurrent containers would invalidate each other's.
 */
import {
  type AnswerRules,
  type CallOptions,
  type HttpResult,
  classifyWrite,
  retryAfterSeconds,
  upstreamOf,
} from '../http.js';
import { type RateLimiter, sendPaced } from '../rate-limit.js';
import type { ProviderOutcome } from '../outcome.js';
import {
  EXECUTED_STATUSES,
  type MonogotoCancelRequest,
  executionResponseSchema,
  monogotoErrorMessage,
  tokenResponseSchema,
} from './schemas.js';

export interface MonogotoCredentials {
  username: string;
  password: string;
}

export interface MonogotoClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Called on each login; may read a secret store (it caches on its own). */
  credentials: () => Promise<MonogotoCredentials>;
  /** Paces this container's requests, logins included, to its share of Monogoto's limit. */
  limiter?: RateLimiter | undefined;
  now?: () => number;
}

/** Documented access-token lifetime, used when the token carries no readable `exp`. */
const DEFAULT_TOKEN_LIFETIME_MS = 4 * 60 * 60 * 1000;
/** Log in again this long before the token expires, so a call never starts with a token about to lapse. */
const TOKEN_EXPIRY_MARGIN_MS = 60 * 1000;

interface CachedToken {
  value: string;
  expiresAt: number;
}

type TokenResult = { ok: true; token: string; fresh: boolean } | { ok: false; outcome: ProviderOutcome };

const tokenExpiry = (token: string, issuedAt: number): number => {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    if (typeof payload.exp === 'number') return payload.exp * 1000;
  } catch {
    // Opaque token: fall back to the documented lifetime.
  }
  return issuedAt + DEFAULT_TOKEN_LIFETIME_MS;
};

export class MonogotoClient {
  readonly #options: MonogotoClientOptions;
  readonly #now: () => number;
  #token: CachedToken | undefined;
  #login: Promise<TokenResult> | undefined;

  constructor(options: MonogotoClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#now = options.now ?? Date.now;
  }

  /** Cancels the current matching ID of a released eSIM (`POST /api/v1/eSIM/cancel`). */
  async cancelEsim(request: MonogotoCancelRequest, options: CallOptions = {}): Promise<ProviderOutcome> {
    return this.#authorizedPost('/api/v1/eSIM/cancel', request, options);
  }

  async #authorizedPost(path: string, json: unknown, options: CallOptions): Promise<ProviderOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const token = await this.#currentToken(options);
      if (!token.ok) return token.outcome;
      const result = await sendPaced(
        this.#options.limiter,
        {
          method: 'POST',
          url: `${this.#options.baseUrl}${path}`,
          headers: { authorization: `Bearer ${token.token}` },
          json,
          timeoutMs: this.#options.timeoutMs,
          signal: options.signal,
        },
        options.beforeSend,
      );
      if (result.kind === 'answered' && result.status === 401) {
        this.#token = undefined;
        if (attempt === 1 && !token.fresh) continue;
        return {
          kind: 'not_sent',
          reason: token.fresh
            ? 'Monogoto refused a fresh access token (401)'
            : 'Monogoto refused the access token twice (401)',
          credentialsRefused: true,
        };
      }
      return classifyExecution(result);
    }
  }

  async #currentToken(options: CallOptions): Promise<TokenResult> {
    const cached = this.#token;
    if (cached !== undefined && cached.expiresAt - TOKEN_EXPIRY_MARGIN_MS > this.#now())
      return { ok: true, token: cached.value, fresh: false };
    // One login at a time per container: concurrent calls share it.
    this.#login ??= this.#logIn(options).finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  async #logIn(options: CallOptions): Promise<TokenResult> {
    const { username, password } = await this.#options.credentials();
    const issuedAt = this.#now();
    const result = await sendPaced(this.#options.limiter, {
      method: 'POST',
      url: `${this.#options.baseUrl}/v1/auth/token`,
      json: { username, password },
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
    });
    // Whatever happens to the login, the cancel itself has not been sent.
    if (result.kind !== 'answered')
      return { ok: false, outcome: { kind: 'not_sent', reason: `Monogoto login: ${result.reason}` } };
    if (result.status === 429) {
      return {
        ok: false,
        outcome: {
          kind: 'throttled',
          upstream: upstreamOf(result),
          retryAfterSeconds: retryAfterSeconds(result.headers, 60),
        },
      };
    }
    const token = tokenResponseSchema.safeParse(result.body);
    if (result.status !== 200 || !token.success) {
      const reason = `Monogoto login failed (HTTP ${result.status}): ${monogotoErrorMessage(result.body)}`;
      return {
        ok: false,
        outcome: { kind: 'not_sent', reason, credentialsRefused: result.status === 401 || result.status === 403 },
      };
    }
    this.#token = { value: token.data.access_token, expiresAt: tokenExpiry(token.data.access_token, issuedAt) };
    return { ok: true, token: token.data.access_token, fresh: true };
  }
}

const rules: AnswerRules = { label: 'Monogoto', errorMessage: monogotoErrorMessage };

/** Maps the answer of an eSIM write endpoint (cancel, download): success is a 2xx whose execution status says executed. */
export const classifyExecution = (result: HttpResult): ProviderOutcome =>
  classifyWrite(result, rules, (answer) => {
    const execution = executionResponseSchema.safeParse(answer.body);
    if (!execution.success) return undefined;
    const status = execution.data.data.header.functionExecutionStatus.status;
    if (EXECUTED_STATUSES.has(status)) return { kind: 'succeeded', upstream: upstreamOf(answer) };
    return {
      kind: 'rejected',
      upstream: upstreamOf(answer),
      message: `Monogoto reported functionExecutionStatus ${status}`,
    };
  });
