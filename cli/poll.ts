/**
 * Polls the batch until it reaches one of the wanted statuses. A watch can last long, so a few failed polls in a
 * row (network, 429, 5xx) are waited out; the batch runs at the server either way.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchApi } from './api.js';
import type { Batch, BatchStatus } from './batch-resource.js';
import { ApiError } from './problem.js';
import { isNetworkError } from './transport.js';

const TOLERATED_FAILURES = 5;

/** Worth another poll: the network failed, a request timed out, or the API was busy or down. */
const isTransient = (error: unknown, signal: AbortSignal): boolean =>
  !signal.aborted &&
  (isNetworkError(error) ||
    (error instanceof DOMException && error.name === 'TimeoutError') ||
    (error instanceof ApiError && error.transient));

export const pollUntil = async (options: {
  api: BatchApi;
  batchId: string;
  until: readonly BatchStatus[];
  intervalMs: number;
  signal: AbortSignal;
  onPoll: (batch: Batch) => void;
  onRetry: (error: unknown) => void;
}): Promise<Batch> => {
  let failures = 0;
  for (;;) {
    try {
      const batch = await options.api.get(options.batchId);
      failures = 0;
      options.onPoll(batch);
      if (options.until.includes(batch.status)) return batch;
    } catch (error) {
      failures += 1;
      if (failures > TOLERATED_FAILURES || !isTransient(error, options.signal)) throw error;
      options.onRetry(error);
    }
    await sleep(options.intervalMs, undefined, { signal: options.signal });
  }
};
