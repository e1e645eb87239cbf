/**
 * A small stand-in for the gateway's batch API over real HTTP, for testing the `sim-cancel` CLI against the contract
 * (submit, poll, confirm, report) without the real server. Each GET of a batch moves it one step: previewing turns
 * previewed, a running batch gets one more row done. Every request is recorded, headers and body included.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RowOutcome = 'succeeded' | 'rejected' | 'failed' | 'invalid';

export interface FakeBatchApiOptions {
  /** Each row's outcome, in file order; rows beyond the list succeed. */
  outcomes?: RowOutcome[];
  /** GETs that still answer `previewing` before the preview is there. */
  previewPolls?: number;
  /** What the API estimates while running; null makes the CLI estimate itself. */
  estimatedSecondsLeft?: number | null;
  /** Someone cancels the batch once this many rows are done: the rest end up cancelled. */
  cancelAtRow?: number;
  /** These GETs of the batch (1 = the first) answer 503, as a gateway having a bad second. */
  unavailablePolls?: number[];
  /** Answer every submit with this 400 problem instead. */
  rejectSubmit?: { detail: string; errors: Array<{ path: string; message: string }> };
}

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface FakeBatch {
  batchId: string;
  operation: string;
  header: string;
  rows: string[];
  status: 'previewing' | 'previewed' | 'running' | 'completed' | 'cancelled';
  polls: number;
  gets: number;
  done: number;
}

const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
};

const problem = (response: ServerResponse, status: number, title: string, extra: Record<string, unknown> = {}) => {
  response.writeHead(status, { 'content-type': 'application/problem+json' });
  response.end(JSON.stringify({ type: `https://errors.example/${status}`, title, status, ...extra }));
};

export const startFakeBatchApi = async (options: FakeBatchApiOptions = {}) => {
  const requests: RecordedRequest[] = [];
  const byKey = new Map<string, FakeBatch>();
  const byId = new Map<string, FakeBatch>();
  const outcome = (index: number): RowOutcome => options.outcomes?.[index] ?? 'succeeded';
  const countOf = (batch: FakeBatch, wanted: RowOutcome, upTo: number) =>
    batch.rows.slice(0, upTo).filter((_, index) => outcome(index) === wanted).length;

  const resource = (batch: FakeBatch) => {
    const total = batch.rows.length;
    const inProgress = batch.status === 'running' && batch.done < total ? 1 : 0;
    const cancelled = batch.status === 'cancelled' ? total - batch.done : 0;
    return {
      batchId: batch.batchId,
      operation: batch.operation,
      status: batch.status,
      counts: {
        pending: total - batch.done - inProgress - cancelled,
        succeeded: countOf(batch, 'succeeded', batch.done),
        in_progress: inProgress,
        rejected: countOf(batch, 'rejected', batch.done),
        failed: countOf(batch, 'failed', batch.done),
        invalid: countOf(batch, 'invalid', batch.done),
        cancelled,
      },
      total,
      preview:
        batch.status === 'previewing'
          ? null
          : {
              summary: {
                wouldSucceed: countOf(batch, 'succeeded', total),
                wouldBeRefusedByGuard: countOf(batch, 'rejected', total),
                wouldBeRefunded: 0,
                invalid: countOf(batch, 'invalid', total),
                unreadable: 0,
              },
            },
      createdAt: '2025-01-01T00:00:00.000Z',
      previewedAt: null,
      confirmedAt: null,
      completedAt: null,
      estimatedSecondsLeft: batch.status === 'running' ? (options.estimatedSecondsLeft ?? null) : null,
    };
  };

  /** One poll, one step forward. */
  const advance = (batch: FakeBatch) => {
    if (batch.status === 'previewing' && ++batch.polls > (options.previewPolls ?? 1)) batch.status = 'previewed';
    else if (batch.status === 'running' && ++batch.done >= batch.rows.length) batch.status = 'completed';
    else if (batch.status === 'running' && batch.done === options.cancelAtRow) batch.status = 'cancelled';
  };

  const report = (batch: FakeBatch) =>
    [
      `index,status,operationId,problem,${batch.header}`,
      ...batch.rows.map((row, index) => {
        const status = index < batch.done ? outcome(index) : batch.status === 'cancelled' ? 'cancelled' : 'pending';
        const operationId = status === 'succeeded' ? `op_${index}` : '';
        const why = status === 'rejected' ? 'guard-refused' : status === 'failed' ? 'upstream-error' : '';
        return `${index},${status},${operationId},${why},${row}`;
      }),
    ].join('\n') + '\n';

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const url = new URL(request.url ?? '/', 'http://fake');
      const key = request.headers['idempotency-key'];
      const [, id, action] = /^\/v1\/batches(?:\/([^/]+)(?:\/(confirm|items))?)?$/.exec(url.pathname) ?? [];
      const batch = id === undefined ? undefined : byId.get(decodeURIComponent(id));

      if (request.method === 'POST' && url.pathname === '/v1/batches') {
        if (options.rejectSubmit !== undefined)
          return problem(response, 400, 'Invalid batch', { ...options.rejectSubmit });
        if (typeof key !== 'string') return problem(response, 400, 'Idempotency-Key missing');
        const known = byKey.get(key);
        if (known !== undefined) return json(response, 200, resource(known), { 'idempotent-replayed': 'true' });
        const [header = '', ...rows] = body.split(/\r?\n/).filter((line) => line !== '');
        const created: FakeBatch = {
          batchId: `b_${byId.size + 1}`,
          operation: url.searchParams.get('operation') ?? '',
          header,
          rows,
          status: 'previewing',
          polls: 0,
          gets: 0,
          done: 0,
        };
        byKey.set(key, created);
        byId.set(created.batchId, created);
        return json(response, 202, resource(created));
      }
      if (batch === undefined) return problem(response, 404, 'Not found');
      if (request.method === 'GET' && action === undefined) {
        if (options.unavailablePolls?.includes(++batch.gets)) return problem(response, 503, 'Service unavailable');
        advance(batch);
        return json(response, 200, resource(batch));
      }
      if (request.method === 'POST' && action === 'confirm') {
        if (batch.status === 'previewed') batch.status = 'running';
        return json(response, 202, resource(batch));
      }
      if (request.method === 'GET' && action === 'items') {
        response.writeHead(200, { 'content-type': 'text/csv' });
        return response.end(report(batch));
      }
      return problem(response, 405, 'Method not allowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** The requests to one route, e.g. `POST /v1/batches`. */
    requestsTo: (method: string, path: string) =>
      requests.filter((request) => request.method === method && request.url.split('?')[0] === path),
    report: (batchId: string) => {
      const batch = byId.get(batchId);
      return batch === undefined ? undefined : report(batch);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export type FakeBatchApi = Awaited<ReturnType<typeof startFakeBatchApi>>;
