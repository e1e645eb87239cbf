/**
 * The four calls of the batch API the CLI makes. An error answer becomes an ApiError; an answer that does not fit the
 * contract, an UnexpectedAnswer.
 */
import type { z } from 'zod';
import { batchHandle, batchResource } from './batch-resource.js';
import type { Batch, BatchHandle } from './batch-resource.js';
import { ApiError } from './problem.js';
import type { ApiRequest, Send } from './transport.js';

/** No single request may hang the CLI: an API that does not answer within this is as good as down. */
const REQUEST_TIMEOUT_MS = 30_000;

/** An answer that is not what the contract says (not JSON, or missing fields). */
export class UnexpectedAnswer extends Error {}

export interface BatchApi {
  /** `replayed`: the key was known, so this is the batch an earlier run started. */
  submit(operation: string, csv: string, idempotencyKey: string): Promise<BatchHandle & { replayed: boolean }>;
  get(batchId: string): Promise<Batch>;
  confirm(batchId: string, idempotencyKey: string): Promise<BatchHandle>;
  /** The per-item report, as the CSV the API sends. */
  report(batchId: string): Promise<Buffer>;
}

export const createBatchApi = (send: Send, signal: AbortSignal): BatchApi => {
  const call = async (request: ApiRequest): Promise<Response> => {
    const name = `${request.method} ${request.path}`;
    const response = await send(request, AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]));
    if (!response.ok) throw await ApiError.from(name, response);
    return response;
  };
  const json = async <T>(request: ApiRequest, schema: z.ZodType<T>): Promise<{ value: T; response: Response }> => {
    const response = await call(request);
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new UnexpectedAnswer(`${request.method} ${request.path} answered ${response.status} with non-JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success)
      throw new UnexpectedAnswer(
        `${request.method} ${request.path} answered an unexpected body: ${parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
          .join('; ')}`,
      );
    return { value: parsed.data, response };
  };
  const batchPath = (batchId: string) => `/v1/batches/${encodeURIComponent(batchId)}`;

  return {
    submit: async (operation, csv, idempotencyKey) => {
      const { value, response } = await json(
        {
          method: 'POST',
          path: '/v1/batches',
          query: { operation },
          headers: { 'content-type': 'text/csv', 'idempotency-key': idempotencyKey },
          body: csv,
        },
        batchHandle,
      );
      return { ...value, replayed: response.headers.get('idempotent-replayed') === 'true' };
    },
    get: async (batchId) => (await json({ method: 'GET', path: batchPath(batchId) }, batchResource)).value,
    confirm: async (batchId, idempotencyKey) =>
      (
        await json(
          { method: 'POST', path: `${batchPath(batchId)}/confirm`, headers: { 'idempotency-key': idempotencyKey } },
          batchHandle,
        )
      ).value,
    report: async (batchId) => {
      const response = await call({
        method: 'GET',
        path: `${batchPath(batchId)}/items`,
        headers: { accept: 'text/csv' },
      });
      return Buffer.from(await response.arrayBuffer());
    },
  };
};
