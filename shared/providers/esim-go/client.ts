/**
 * eSIM Go v2.4 client: the revoke-by-name call and the reads a safe revoke needs. Knows eSIM Go's quirks:
 * `X-API-Key` is set by hand on every call (the v2.4 spec's revoke operation names an undefined security
 * scheme, `apiKeyAuth`, so generated clients drop the header there); a bad key is a 403, not a 401; reads may
 * answer 503 "processing" with Retry-After; at most 10 requests per second per IP.
 */
import type { ZodType } from '../../zod.js';
import {
  type Answered,
  type AnswerRules,
  type CallOptions,
  type HttpResult,
  classifyStatus,
  classifyWrite,
  retryAfterSeconds,
  upstreamOf,
} from '../http.js';
import type { ProviderOutcome, UpstreamAnswer } from '../outcome.js';
import { type RateLimiter, sendPaced } from '../rate-limit.js';
import {
  type BundlesList,
  type EsimDetails,
  bundlesListSchema,
  type EsimHistoryEntry,
  esimDetailsSchema,
  esimHistoryAnswerSchema,
  esimGoErrorMessage,
  statusMessageSchema,
} from './schemas.js';

export interface EsimGoClientOptions {
  baseUrl: string;
  timeoutMs: number;
  apiKey: () => Promise<string>;
  /** Paces the requests to eSIM Go's limit; none, and they go as they come. */
  limiter?: RateLimiter | undefined;
  now?: () => number;
}

export interface RevokeRequest {
  iccid: string;
  name: string;
  type: 'validate' | 'transaction';
  refundToBalance?: boolean;
  offerId?: string;
}

/** Revoke specific bundle: the revoke-by-name request plus the id of the one assignment to revoke. */
export interface RevokeAssignmentRequest extends RevokeRequest {
  assignmentId: string;
}

/** A read either gives data, or the outcome the whole operation ends with (nothing was written). */
export type ReadFailure = Exclude<ProviderOutcome, { kind: 'succeeded' }>;
export type ReadResult<T> = { ok: true; data: T; upstream: UpstreamAnswer } | { ok: false; outcome: ReadFailure };

/** The most list entries eSIM Go returns in one page (`limit` is 1-200). */
const BUNDLE_PAGE_LIMIT = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class EsimGoClient {
  readonly #options: EsimGoClientOptions;
  readonly #now: () => number;

  constructor(options: EsimGoClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#now = options.now ?? Date.now;
  }

  /** `GET /esims/{iccid}`: profile status and first installation time. */
  getEsim(iccid: string, options: CallOptions = {}): Promise<ReadResult<EsimDetails>> {
    return this.#read(`/esims/${encodeURIComponent(iccid)}`, esimDetailsSchema, options);
  }

  /** `GET /esims/{iccid}/bundles?includeUsed=true`: every bundle and assignment, used ones included. */
  listBundles(iccid: string, options: CallOptions = {}): Promise<ReadResult<BundlesList>> {
    return this.#read(
      `/esims/${encodeURIComponent(iccid)}/bundles?includeUsed=true&limit=${BUNDLE_PAGE_LIMIT}`,
      bundlesListSchema,
      options,
    );
  }

  /** `GET /esims/{iccid}/history`: what happened to the eSIM (assignments, revokes, refunds, returns), as entries. */
  async history(iccid: string, options: CallOptions = {}): Promise<ReadResult<EsimHistoryEntry[]>> {
    const read = await this.#read(`/esims/${encodeURIComponent(iccid)}/history`, esimHistoryAnswerSchema, options);
    return read.ok ? { ...read, data: Array.isArray(read.data) ? read.data : [read.data] } : read;
  }

  /** `DELETE /esims/{iccid}/bundles/{name}`: revokes the oldest unused assignment (or, with type=validate, says what it would do). */
  async revokeBundle(request: RevokeRequest, options: CallOptions = {}): Promise<ProviderOutcome> {
    const query = new URLSearchParams({ type: request.type });
    if (request.refundToBalance !== undefined) query.set('refundToBalance', String(request.refundToBalance));
    if (request.offerId !== undefined) query.set('offerId', request.offerId);
    const result = await this.#send(
      'DELETE',
      `/esims/${encodeURIComponent(request.iccid)}/bundles/${encodeURIComponent(request.name)}?${query}`,
      this.#options.timeoutMs,
      options,
    );
    return classifyRevoke(result);
  }

  /**
   * `DELETE /esims/{iccid}/bundles/{name}/assignments/{assignmentId}` ("Revoke specific Bundle"): revokes exactly that
   * assignment (or, with type=validate, says what it would do). v2.4 documents only `type` on this operation; the
   * optional refundToBalance and offerId are sent as on revoke by name (v2.5 documents refundToBalance here).
   */
  async revokeAssignment(request: RevokeAssignmentRequest, options: CallOptions = {}): Promise<ProviderOutcome> {
    const query = new URLSearchParams({ type: request.type });
    if (request.refundToBalance !== undefined) query.set('refundToBalance', String(request.refundToBalance));
    if (request.offerId !== undefined) query.set('offerId', request.offerId);
    const path = `/esims/${encodeURIComponent(request.iccid)}/bundles/${encodeURIComponent(request.name)}/assignments/${encodeURIComponent(request.assignmentId)}`;
    const result = await this.#send('DELETE', `${path}?${query}`, this.#options.timeoutMs, options);
    return classifyRevoke(result);
  }

  async #send(method: 'GET' | 'DELETE', path: string, timeoutMs: number, options: CallOptions): Promise<HttpResult> {
    const apiKey = await this.#options.apiKey();
    return sendPaced(
      this.#options.limiter,
      {
        method,
        url: `${this.#options.baseUrl}${path}`,
        headers: { 'x-api-key': apiKey },
        timeoutMs,
        signal: options.signal,
      },
      options.beforeSend,
    );
  }

  async #read<T>(path: string, schema: ZodType<T>, options: CallOptions): Promise<ReadResult<T>> {
    const deadline = this.#now() + this.#options.timeoutMs;
    for (;;) {
      const result = await this.#send('GET', path, Math.max(deadline - this.#now(), 1), { signal: options.signal });
      if (result.kind !== 'answered') {
        return {
          ok: false,
          outcome: {
            kind: 'not_sent',
            reason: `eSIM Go read ${path.split('?')[0]} failed (${result.reason}) before anything was revoked`,
          },
        };
      }
      const upstream = upstreamOf(result);
      if (result.status === 503) {
        // "Processing - come back later or use the Retry-After (seconds) header": wait if the budget allows.
        const waitMs = retryAfterSeconds(result.headers, 1) * 1000;
        if (this.#now() + waitMs < deadline) {
          await sleep(waitMs);
          continue;
        }
        return { ok: false, outcome: { kind: 'throttled', upstream, retryAfterSeconds: Math.ceil(waitMs / 1000) } };
      }
      const failure = classifyStatus(result, rules);
      // A read that failed on eSIM Go's side changed nothing: a 5xx here is "not sent" as far as the revoke goes.
      if (failure !== undefined && failure.kind !== 'unknown') return { ok: false, outcome: failure };
      const parsed = schema.safeParse(result.body);
      if (result.status !== 200 || !parsed.success) {
        return {
          ok: false,
          outcome: {
            kind: 'not_sent',
            reason: `eSIM Go read answered HTTP ${result.status} with an unexpected body; nothing was revoked`,
          },
        };
      }
      return { ok: true, data: parsed.data, upstream };
    }
  }
}

/**
 * eSIM Go answers 403 both for "not accessible" (final) and for an invalid API token (our credentials: nothing was
 * processed, and the answer must not be saved as a refusal). Only the message tells them apart: its documented
 * wording is "Unauthorised - returned when the api token is invalid".
 */
const INVALID_TOKEN = /unauthori[sz]ed|api[ _-]?(token|key)\b.*invalid|invalid.*api[ _-]?(token|key)/i;
const isInvalidApiKey = (result: Answered): boolean =>
  result.status === 403 && INVALID_TOKEN.test(esimGoErrorMessage(result.body));

const rules: AnswerRules = { label: 'eSIM Go', errorMessage: esimGoErrorMessage, credentialsRefused: isInvalidApiKey };

/** Maps the answer of a revoke call: success is a 200 with eSIM Go's `{status}` body. */
const classifyRevoke = (result: HttpResult): ProviderOutcome =>
  classifyWrite(result, rules, (answer) =>
    answer.status === 200 && answer.bodyIsJson && statusMessageSchema.safeParse(answer.body).success
      ? { kind: 'succeeded', upstream: upstreamOf(answer) }
      : undefined,
  );
