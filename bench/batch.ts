/**
 * Batch throughput: a batch of eSIM Go bundle revokes, previewed then run, against the simulator enforcing eSIM Go's
 * 10 requests/s. Each phase's time is set against the least the limit allows for the calls it made, and every 429 is
 * counted. The batch functions and the revoke-bundle handler run in-process; the items reach the handler through the
 * local stand-in for SQS and its event source mapping (infra/local/batch-items.ts), on the bench's DynamoDB Local.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { lambdaContext } from '../infra/local/apigw-event.js';
import { resetConfigCache } from '../shared/config.js';
import { installLocalBatchItems } from '../infra/local/batch-items.js';
import { assignment } from '../sandbox/esim-go/simulator.js';
import type { BatchMeta, BatchStatus } from '../shared/batches/model.js';
import { readMeta } from '../shared/batches/store.js';
import { routes } from '../shared/http/routes.js';
import { withLuhnCheckDigit } from '../shared/iccid.js';
import { esimGo } from '../shared/providers/esim-go/provider.js';
import { forgetClient } from '../shared/providers/provider.js';
import { apiGatewayEvent, startEsimGo } from '../testkit/harness.js';
import { percentile } from './stats.js';

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyResult>;
type QueueHandler = (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;

export interface BatchPhase {
  /** Calls the simulator received, 429s included. */
  calls: number;
  throttled: number;
  elapsedMs: number;
  /** The least time the limit allows for the calls that were answered: one second per `requestsPerSecond` of them. */
  minimumMs: number;
  /** Answered calls per second, and that as a share of the limit (= minimumMs / elapsedMs). */
  rate: number;
  share: number;
  /** Records the handler reported failed, which the queue delivers again a second later (a 429 puts the item back instead). */
  redeliveries: number;
  /** From the client's fetch to the simulator counting the call: what the limiter's clock cannot see. */
  lagMs: { p99: number; max: number };
}

const BUNDLE = 'esim_1GB_7D_GB_V2';
const DAY = 86_400_000;

export const measureBatch = async (
  options: { items?: number; concurrency?: number; requestsPerSecond?: number } = {},
) => {
  const items = options.items ?? 300;
  // As deployed: the item queue's mapping runs two invocations at once, each with eSIM Go's records per batch.
  const concurrency = options.concurrency ?? esimGo.limits.queueConcurrency * esimGo.limits.recordsPerBatch;
  const limit = options.requestsPerSecond ?? 10;
  // As deployed: the limit for the whole fleet, its windows counted in DynamoDB (here the bench's DynamoDB Local).
  process.env.ESIM_GO_REQUESTS_PER_SECOND = String(limit);
  process.env.RATE_LIMIT_SCOPE = 'fleet';
  resetConfigCache();
  const simulator = await startEsimGo({ seed: false, requestsPerSecond: limit });
  // The client is built once per process: forget any built earlier, so it reads this simulator and this rate.
  forgetClient(esimGo);
  const baseUrl = process.env.ESIM_GO_BASE_URL ?? '';

  // The simulator records calls but not its answers: the 429s are counted where the client receives them, and each
  // call's send time is kept to set against the time the simulator records it (matched in order, by method and path).
  const original = globalThis.fetch;
  let throttled = 0;
  const sent = new Map<string, number[]>();
  globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith(baseUrl)) return original(input, init);
    const key = `${init?.method ?? 'GET'} ${new URL(url).pathname}`;
    const times = sent.get(key) ?? [];
    times.push(Date.now());
    sent.set(key, times);
    const response = await original(input, init);
    if (response.status === 429) throttled += 1;
    return response;
  };

  // Installed eSIMs with two unused assignments each: the returns-process guard allows every revoke.
  const iccids = Array.from({ length: items }, (_, index) =>
    withLuhnCheckDigit(`894400000${String(index).padStart(9, '0')}`),
  );
  for (const [index, iccid] of iccids.entries())
    simulator.addEsim({
      iccid,
      profileStatus: 'Installed',
      firstInstalledDateTime: Date.now() - 10 * DAY,
      bundles: [
        {
          name: BUNDLE,
          description: 'eSIM, 1GB, 7 Days, United Kingdom, V2',
          assignments: [assignment(`${index * 2 + 1000}`, 'queued', 2), assignment(`${index * 2 + 1001}`, 'queued', 1)],
        },
      ],
      inAccount: true,
    });

  const handlers = new Map<string, Handler>();
  for (const name of ['create-batch', 'confirm-batch'])
    handlers.set(name, ((await import(`../functions/${name}/index.ts`)) as { handler: Handler }).handler);
  const revoke = ((await import('../functions/revoke-bundle/index.js')) as { handler: QueueHandler }).handler;
  let redeliveries = 0;
  const counted: QueueHandler = async (event, context) => {
    const response = await revoke(event, context);
    redeliveries += response.batchItemFailures.length;
    return response;
  };
  const queue = installLocalBatchItems(new Map([['revoke-bundle', counted as never]]), { concurrency });

  const call = async (
    name: string,
    path: string,
    request: { body?: string; headers?: Record<string, string> } = {},
  ) => {
    const route = routes.find((candidate) => candidate.name === name);
    const handler = handlers.get(name);
    if (route === undefined || handler === undefined) throw new Error(`no route ${name}`);
    const event = apiGatewayEvent({ route: { method: route.method, path: route.path } } as never, {
      method: route.method,
      path,
      ...request,
    });
    const result = await handler(event, lambdaContext(name, 28_000));
    if (result.statusCode >= 300) throw new Error(`${name} answered ${result.statusCode}: ${result.body}`);
    return JSON.parse(result.body) as { batchId: string };
  };
  // Read from the store, not through get-batch: the phases are timed by the batch's own timestamps, so polling
  // only has to notice the end.
  const until = async (batchId: string, status: BatchStatus): Promise<BatchMeta> => {
    // Four times a phase's minimum, so a stuck batch ends the bench instead of holding it.
    const deadline = Date.now() + ((items * 3) / limit) * 4000 + 60_000;
    for (;;) {
      const meta = await readMeta(batchId);
      if (meta?.status === status) return meta;
      if (Date.now() > deadline) throw new Error(`batch not ${status} in time: ${JSON.stringify(meta?.counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const phase = async (work: () => Promise<BatchMeta>, from: keyof BatchMeta, to: keyof BatchMeta) => {
    const [first, throttledBefore, redeliveredBefore] = [simulator.server.calls.length, throttled, redeliveries];
    const meta = await work();
    const calls = simulator.server.calls.slice(first);
    const lags = calls.flatMap((recorded) => {
      const sentAt = sent.get(`${recorded.method} ${recorded.path}`)?.shift();
      return sentAt === undefined ? [] : [recorded.at - sentAt];
    });
    const refused = throttled - throttledBefore;
    const elapsedMs = Date.parse(String(meta[to])) - Date.parse(String(meta[from]));
    const minimumMs = ((calls.length - refused) / limit) * 1000;
    const figures: BatchPhase = {
      calls: calls.length,
      throttled: refused,
      elapsedMs,
      minimumMs,
      rate: ((calls.length - refused) / elapsedMs) * 1000,
      share: minimumMs / elapsedMs,
      redeliveries: redeliveries - redeliveredBefore,
      lagMs: { p99: percentile(lags, 99), max: Math.max(...lags) },
    };
    return { meta, figures };
  };

  try {
    let batchId = '';
    const preview = await phase(
      async () => {
        ({ batchId } = await call('create-batch', '/v1/batches', {
          body: JSON.stringify({ operation: 'revoke-bundle', items: iccids.map((iccid) => ({ iccid, name: BUNDLE })) }),
          headers: { 'Idempotency-Key': `bench-batch-${Date.now()}` },
        }));
        return until(batchId, 'previewed');
      },
      'createdAt',
      'previewedAt',
    );
    const run = await phase(
      async () => {
        await call('confirm-batch', `/v1/batches/${batchId}/confirm`);
        return until(batchId, 'completed');
      },
      'confirmedAt',
      'completedAt',
    );
    return {
      items,
      concurrency,
      requestsPerSecond: limit,
      preview: preview.figures,
      run: run.figures,
      summary: preview.meta.summary,
      counts: run.meta.counts,
      revocations: simulator.revocations().length,
    };
  } finally {
    await queue.stop();
    delete process.env.RATE_LIMIT_SCOPE;
    resetConfigCache();
    forgetClient(esimGo);
    globalThis.fetch = original;
    await simulator.server.stop();
  }
};

export type BatchFigure = Awaited<ReturnType<typeof measureBatch>>;

export const BATCH_HEADING = '## Batch throughput';

/** The figure's section of docs/benchmarks.md. */
export const batchSection = (figure: BatchFigure): string[] => {
  const row = (label: string, phase: BatchPhase) =>
    `| ${label} | ${phase.calls} | ${phase.throttled} | ${(phase.elapsedMs / 1000).toFixed(1)} | ${(phase.minimumMs / 1000).toFixed(1)} | ${phase.rate.toFixed(2)} | **${(phase.share * 100).toFixed(1)}%** | ${phase.redeliveries} | ${phase.lagMs.p99} / ${phase.lagMs.max} |`;
  const verdict = (phase: BatchPhase) => {
    const missed = [phase.share < 0.9 ? 'rate' : '', phase.throttled > 0 ? '429s' : ''].filter(Boolean);
    return missed.length === 0 ? '**met**' : `not met (${missed.join(', ')})`;
  };
  return [
    `${BATCH_HEADING}: ${figure.items} eSIM Go bundle revokes against the simulator enforcing ${figure.requestsPerSecond} requests/s`,
    '',
    `One batch of revoke-bundle items, each on its own installed eSIM with two unused assignments (so the guard allows every revoke): create-batch, then the preview (each item's dry run: the eSIM and bundle reads and eSIM Go's \`type=validate\`), confirm-batch, then the run (the two reads and the revoke). The items reach the revoke-bundle handler through the local queue (infra/local/batch-items.ts), ${figure.concurrency} at a time (as deployed: the mapping's two invocations of eSIM Go's ${esimGo.limits.recordsPerBatch} records each); an item that meets a 429 is put back for later. ESIM_GO_REQUESTS_PER_SECOND=${figure.requestsPerSecond} with RATE_LIMIT_SCOPE=fleet, as the stack sets them: every call takes its start from the fleet's windows in DynamoDB (the bench's DynamoDB Local), which count in the provider's fixed seconds; a start in a second's last 300 ms is counted in that second and the next. Times are the batch's own (createdAt to previewedAt, confirmedAt to completedAt); the minimum is one second per ${figure.requestsPerSecond} answered calls (the first second's go at once, so a phase may beat it by up to a second). The lag runs from the client's fetch to the simulator counting the call, whose window is a fixed second.`,
    '',
    '| phase | calls | 429s | elapsed (s) | minimum at the limit (s) | answered calls/s | share of the limit | redelivered records | lag p99 / max (ms) |',
    '|---|---|---|---|---|---|---|---|---|',
    row('preview', figure.preview),
    row('run', figure.run),
    '',
    `Targets: at least 90% of the allowed rate with zero 429s. Preview: ${verdict(figure.preview)}; run: ${verdict(figure.run)}. Items: ${figure.counts.succeeded} succeeded, ${figure.counts.failed} failed, ${figure.counts.pending} pending (preview: ${figure.summary.wouldSucceed} would succeed); the simulator applied ${figure.revocations} revocations.`,
    '',
  ];
};
