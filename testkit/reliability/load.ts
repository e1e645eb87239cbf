/**
 * Load with duplicates through the local runner: N requests over K keys (each key one sTN activation), sent over
 * HTTP at a given concurrency while the simulator answers with random latency. Ground truth: the simulator's record
 * of accepted cancels, which must be exactly one per key.
 */
import { percentile } from '../../bench/stats.js';

export interface LoadReport {
  requests: number;
  keys: number;
  concurrency: number;
  statuses: Record<string, number>;
  replays: number;
  effects: number;
  keysWithOneEffect: number;
  throughputPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  unexpected: number;
  /** Requests repeated after a 503 with Retry-After (provider throttle or store unavailable). */
  throttledRetries: number;
  /** Problem types of the unexpected answers. */
  problems: Record<string, number>;
}

export const runLoad = async (options: {
  url: string;
  activationIds: string[];
  requests: number;
  concurrency: number;
  effects: () => Map<string, number>;
}): Promise<LoadReport> => {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let replays = 0;
  let unexpected = 0;
  let throttledRetries = 0;
  const problems: Record<string, number> = {};
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.requests) {
        const index = next;
        next += 1;
        const id = options.activationIds[index % options.activationIds.length] as string;
        const begin = performance.now();
        let response: Response;
        let text: string;
        // A well-behaved client: a 503 with Retry-After (the provider throttled, or the store was briefly unavailable:
        // either way nothing was done) is waited out and the request repeated.
        for (;;) {
          response = await fetch(`${options.url}/v1/stn/activations/${id}/cancel`, {
            method: 'POST',
            headers: { 'idempotency-key': `load-${id}` },
          });
          text = await response.text();
          if (response.status !== 503 || response.headers.get('retry-after') === null) break;
          throttledRetries += 1;
          await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000));
        }
        latencies.push(performance.now() - begin);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.headers.get('idempotent-replayed') === 'true') replays += 1;
        if (response.status !== 200 && response.status !== 409) {
          unexpected += 1;
          const type = String((JSON.parse(text) as { type?: string }).type)
            .split('/')
            .pop() as string;
          problems[type] = (problems[type] ?? 0) + 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const effects = options.effects();
  return {
    requests: options.requests,
    keys: options.activationIds.length,
    concurrency: options.concurrency,
    statuses,
    replays,
    effects: [...effects.values()].reduce((sum, count) => sum + count, 0),
    keysWithOneEffect: options.activationIds.filter((id) => effects.get(id) === 1).length,
    throughputPerSecond: options.requests / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    unexpected,
    throttledRetries,
    problems,
  };
};
