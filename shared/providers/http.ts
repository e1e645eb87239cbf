/**
 * The one place that turns a provider HTTP exchange into a ProviderOutcome's raw material: it applies the
 * timeout and tells "never sent" apart from "sent, answer lost". Written on Node's fetch because no
 * maintained client classifies connect-phase versus response-phase failures for us.
 */
import type { ProviderOutcome, UpstreamAnswer } from './outcome.js';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  timeoutMs: number;
  /** The caller's deadline (the invocation's): aborts the call with the timeout, whichever comes first. */
  signal?: AbortSignal;
}

/** What an operation hands a provider client for one call: its deadline, and a hook run right before a write goes out. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Runs after the rate limiter and any login, right before the request is sent; if it throws, nothing is sent. */
  beforeSend?: () => Promise<void>;
}

export type HttpResult =
  | { kind: 'answered'; status: number; headers: Headers; body: unknown; bodyIsJson: boolean }
  | { kind: 'not_sent'; reason: string }
  | { kind: 'lost'; reason: string; timedOut: boolean };

/** Error codes that mean the connection was never established, so the request cannot have been applied. */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const errorCode = (error: unknown): string | undefined => {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
};

const parseBody = (text: string): { body: unknown; bodyIsJson: boolean } => {
  if (text.length === 0) return { body: null, bodyIsJson: false };
  try {
    return { body: JSON.parse(text) as unknown, bodyIsJson: true };
  } catch {
    return { body: text.slice(0, 2000), bodyIsJson: false };
  }
};

const deadlineReached = (request: HttpRequest): boolean => request.signal?.aborted === true;

export const sendHttp = async (request: HttpRequest): Promise<HttpResult> => {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.json !== undefined) headers['content-type'] = 'application/json';
  // Past the deadline nothing is started: an aborted fetch would look like a lost answer.
  if (deadlineReached(request))
    return { kind: 'not_sent', reason: 'the invocation reached its deadline before the call' };
  const timeout = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers,
      body: request.json === undefined ? undefined : JSON.stringify(request.json),
      signal: request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]),
    });
    const text = await response.text();
    return { kind: 'answered', status: response.status, headers: response.headers, ...parseBody(text) };
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && CONNECT_PHASE_CODES.has(code)) return { kind: 'not_sent', reason: code };
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const reason = deadlineReached(request)
      ? 'aborted at the invocation deadline'
      : timedOut
        ? `no answer within ${request.timeoutMs} ms`
        : (code ?? 'connection lost');
    return { kind: 'lost', reason, timedOut };
  }
};

/** Reads Retry-After (seconds or an HTTP date) with a fallback, capped so clients are not told to wait for hours. */
export const retryAfterSeconds = (headers: Headers, fallback = 1): number => {
  const value = headers.get('retry-after');
  if (value === null) return fallback;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(Math.ceil(seconds), 3600);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.min(Math.max(Math.ceil((date - Date.now()) / 1000), 0), 3600);
  return fallback;
};

export type Answered = Extract<HttpResult, { kind: 'answered' }>;
type Failure = Exclude<ProviderOutcome, { kind: 'succeeded' }>;

/** What a provider's answers mean beyond the status code: the one place each provider's quirks are told to the classifier. */
export interface AnswerRules {
  /** Names the provider in reasons (`eSIM Go answered HTTP 502`). */
  label: string;
  /** The provider's error message from an error body. */
  errorMessage: (body: unknown) => string;
  /** Whether this answer refuses the gateway's credentials (nothing was processed; must not be saved as a refusal). */
  credentialsRefused?: (answer: Answered) => boolean;
  /** What the credentials are called in reasons: `API key` by default. */
  credentials?: string;
  /** Seconds to wait after a 429 without Retry-After. */
  retryAfterFallbackSeconds?: number;
}

export const upstreamOf = (answer: Answered): UpstreamAnswer => ({ status: answer.status, body: answer.body });

/**
 * The shared meaning of a provider's answer before its body is looked at, for every provider: refused credentials
 * (not sent), 429 (throttled), 5xx (unknown: it may have been applied), another 4xx (rejected). Undefined for a 2xx.
 */
export const classifyStatus = (answer: Answered, rules: AnswerRules): Failure | undefined => {
  const upstream = upstreamOf(answer);
  if (rules.credentialsRefused?.(answer) === true)
    return {
      kind: 'not_sent',
      reason: `${rules.label} refused the gateway's ${rules.credentials ?? 'API key'} (HTTP ${answer.status})`,
      credentialsRefused: true,
    };
  if (answer.status === 429)
    return {
      kind: 'throttled',
      upstream,
      retryAfterSeconds: retryAfterSeconds(answer.headers, rules.retryAfterFallbackSeconds ?? 1),
    };
  if (answer.status >= 500)
    return { kind: 'unknown', reason: `${rules.label} answered HTTP ${answer.status}`, timedOut: false, upstream };
  if (answer.status >= 400) return { kind: 'rejected', upstream, message: rules.errorMessage(answer.body) };
  return undefined;
};

/**
 * The outcome of a write: a request never sent stays not_sent, a lost answer is unknown, a status means what
 * classifyStatus says, and a 2xx is what `success` reads in its body (unknown when it cannot read it).
 */
export const classifyWrite = (
  result: HttpResult,
  rules: AnswerRules,
  success: (answer: Answered) => ProviderOutcome | undefined,
): ProviderOutcome => {
  if (result.kind === 'not_sent') return result;
  if (result.kind === 'lost') return { kind: 'unknown', reason: result.reason, timedOut: result.timedOut };
  return (
    classifyStatus(result, rules) ??
    success(result) ?? {
      kind: 'unknown',
      reason: `${rules.label} answered HTTP ${result.status} with an unexpected body`,
      timedOut: false,
      upstream: upstreamOf(result),
    }
  );
};
