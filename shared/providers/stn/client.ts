/**
 * sTN Partner API client (a ServiceStack backend): `POST /api/CancelNewSubscription` and `GET /api/QueryActivation`,
 * authenticated with the `stn-api-key` header. A 401/403 means our key was refused and nothing was processed.
 */
import {
  type AnswerRules,
  type CallOptions,
  type HttpResult,
  classifyStatus,
  classifyWrite,
  sendHttp,
  upstreamOf,
} from '../http.js';
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

// A 401/403 means our key was refused and nothing was processed; sTN documents 429 but no Retry-After: one second.
const rules: AnswerRules = {
  label: 'sTN',
  errorMessage: stnErrorMessage,
  credentialsRefused: (answer) => answer.status === 401 || answer.status === 403,
  retryAfterFallbackSeconds: 1,
};

export class StnClient {
  readonly #options: StnClientOptions;

  constructor(options: StnClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
  }

  async #send(method: 'GET' | 'POST', path: string, json: unknown, options: CallOptions): Promise<HttpResult> {
    const apiKey = await this.#options.apiKey();
    await options.beforeSend?.();
    return sendHttp({
      method,
      url: `${this.#options.baseUrl}${path}`,
      headers: { 'stn-api-key': apiKey },
      json,
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
    });
  }

  /** Cancels a pending new-subscription activation; sTN answers the activation, normally in `CANCELLING`. */
  async cancelNewSubscription(
    request: { activationId: string; note?: string },
    options: CallOptions = {},
  ): Promise<ProviderOutcome> {
    const body =
      request.note === undefined
        ? { activationId: request.activationId }
        : { activationId: request.activationId, note: request.note };
    const result = await this.#send('POST', '/api/CancelNewSubscription', body, options);
    return classifyWrite(result, rules, (answer) =>
      activationSchema.safeParse(answer.body).success ? { kind: 'succeeded', upstream: upstreamOf(answer) } : undefined,
    );
  }

  /** Reads one activation by id (AutoQuery `GET /api/QueryActivation?id=`); null when sTN knows no such id. */
  async queryActivation(id: string, options: CallOptions = {}): Promise<ActivationLookup> {
    const result = await this.#send('GET', `/api/QueryActivation?${new URLSearchParams({ id })}`, undefined, {
      signal: options.signal,
    });
    if (result.kind !== 'answered')
      return {
        ok: false,
        outcome: { kind: 'not_sent', reason: `sTN QueryActivation failed (${result.reason}); nothing was changed` },
      };
    const failure = classifyStatus(result, rules);
    if (failure !== undefined)
      return {
        ok: false,
        outcome:
          failure.kind === 'unknown'
            ? { kind: 'not_sent', reason: `${failure.reason} to QueryActivation; nothing was changed` }
            : failure,
      };
    const parsed = queryActivationSchema.safeParse(result.body);
    if (!parsed.success)
      return {
        ok: false,
        outcome: { kind: 'not_sent', reason: 'sTN QueryActivation answered an unexpected body; nothing was changed' },
      };
    return {
      ok: true,
      activation: parsed.data.results.find((activation) => activation.id === id) ?? null,
      upstream: upstreamOf(result),
    };
  }
}
