/**
 * sTN Partner API client (a ServiceStack backend): `POST /api/CancelNewSubscription` and `GET /api/QueryActivation`,
 * authenticated with the `stn-api-key` header. A 401/403 means our key was refused and nothing was processed.
 */
import { type CallOptions, type HttpResult, retryAfterSeconds, sendHttp } from '../http.js';
import type { ProviderOutcome, UpstreamAnswer } from '../outcome.js';
import { type Activation, activationSchema, queryActivationSchema, stnErrorMessage } from './schemas.js';

export interface StnClientOptions {
  baseUrl: string;
  timeoutMs: number;
  apiKey: () => Promise<string>;
}

export type ActivationLookup =
  | { ok: true; activation: Activation | null; upstream: UpstreamAnswer }
  | { ok: false; outcome: Exclude<ProviderOutcome, { kind: 'succeeded' }> };

const answer = (result: Extract<HttpResult, { kind: 'answered' }>): UpstreamAnswer => ({ status: result.status, body: result.body });

/** What every sTN answer means before its body is looked at; undefined for a 2xx. */
const classifyStatus = (result: Extract<HttpResult, { kind: 'answered' }>): Exclude<ProviderOutcome, { kind: 'succeeded' }> | undefined => {
  const upstream = answer(result);
  if (result.status === 401 || result.status === 403) {
    return { kind: 'not_sent', reason: `sTN refused the gateway's API key (HTTP ${result.status})`, credentialsRefused: true };
  }
  // sTN documents 429 but no Retry-After: one second unless it says otherwise.
  if (result.status === 429) return { kind: 'throttled', upstream, retryAfterSeconds: retryAfterSeconds(result.headers, 1) };
  if (result.status >= 500) return { kind: 'unknown', reason: `sTN answered HTTP ${result.status}`, timedOut: false, upstream };
  if (result.status >= 400) return { kind: 'rejected', upstream, message: stnErrorMessage(result.body) };
  return undefined;
};

export class StnClient {
  readonly #options: StnClientOptions;

  constructor(options: StnClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
  }

  async #send(method: 'GET' | 'POST', path: string, json: unknown, options: CallOptions): Promise<HttpResult> {
    const apiKey = await this.#options.apiKey();
    await options.beforeSend?.();
    return sendHttp({ method, url: `${this.#options.baseUrl}${path}`, headers: { 'stn-api-key': apiKey }, json, timeoutMs: this.#options.timeoutMs, signal: options.signal });
  }

  /** Cancels a pending new-subscription activation; sTN answers the activation, normally in `CANCELLING`. */
  async cancelNewSubscription(request: { activationId: string; note?: string }, options: CallOptions = {}): Promise<ProviderOutcome> {
    const body = request.note === undefined ? { activationId: request.activationId } : { activationId: request.activationId, note: request.note };
    const result = await this.#send('POST', '/api/CancelNewSubscription', body, options);
    if (result.kind === 'not_sent') return result;
    if (result.kind === 'lost') return { kind: 'unknown', reason: result.reason, timedOut: result.timedOut };
    const failure = classifyStatus(result);
    if (failure !== undefined) return failure;
    if (activationSchema.safeParse(result.body).success) return { kind: 'succeeded', upstream: answer(result) };
    return { kind: 'unknown', reason: `sTN answered HTTP ${result.status} with an unexpected body`, timedOut: false, upstream: answer(result) };
  }

  /** Reads one activation by id (AutoQuery `GET /api/QueryActivation?id=`); null when sTN knows no such id. */
  async queryActivation(id: string, options: CallOptions = {}): Promise<ActivationLookup> {
    const result = await this.#send('GET', `/api/QueryActivation?${new URLSearchParams({ id })}`, undefined, { signal: options.signal });
    if (result.kind !== 'answered') return { ok: false, outcome: { kind: 'not_sent', reason: `sTN QueryActivation failed (${result.reason}); nothing was changed` } };
    const failure = classifyStatus(result);
    if (failure !== undefined) return { ok: false, outcome: failure.kind === 'unknown' ? { kind: 'not_sent', reason: `${failure.reason} to QueryActivation; nothing was changed` } : failure };
    const parsed = queryActivationSchema.safeParse(result.body);
    if (!parsed.success) return { ok: false, outcome: { kind: 'not_sent', reason: 'sTN QueryActivation answered an unexpected body; nothing was changed' } };
    return { ok: true, activation: parsed.data.results.find((activation) => activation.id === id) ?? null, upstream: answer(result) };
  }
}
