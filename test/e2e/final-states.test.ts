/**
 * `npm start` with FOLLOW_UP_FIRST_DELAY_SECONDS=1, as a user would try the final states: cancel the sandbox's BUSY
 * activation and watch its operation go from in_progress to succeeded, find it again by activationId, then revoke a
 * sandbox bundle and download the refund ledger as CSV once the refund is confirmed.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRunnerProcess } from '../support/runner-process.js';

let runner: ChildProcess;
let api = '';

beforeAll(async () => {
  const started = await startRunnerProcess({ FOLLOW_UP_FIRST_DELAY_SECONDS: '1', FOLLOW_UP_MAX_DELAY_SECONDS: '2' });
  runner = started.child;
  api = started.url;
});
afterAll(() => {
  if (runner.exitCode === null) runner.kill('SIGKILL');
});

const json = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${api}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const until = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
};

it('a CANCELLING cancel becomes succeeded, and is listed by its activationId', { timeout: 60_000 }, async () => {
  const cancel = await json('/v1/stn/activations/q7LmXw2RgxhI5Zvz/cancel', {
    method: 'POST',
    headers: { 'idempotency-key': 'final-states-1' },
  });
  expect(cancel.body).toMatchObject({ status: 'in_progress' });
  const operationId = cancel.body.operationId as string;
  const record = await until(
    () => json(`/v1/operations/${operationId}`),
    (read) => read.body.status === 'succeeded',
  );
  expect(record.body).toMatchObject({
    status: 'succeeded',
    timeline: expect.arrayContaining([expect.objectContaining({ source: 'follow-up:settle', status: 'succeeded' })]),
  });
  const listed = await json('/v1/operations?activationId=q7LmXw2RgxhI5Zvz');
  expect(listed.status).toBe(200);
  expect((listed.body.items as Array<{ operationId: string }>).map((item) => item.operationId)).toEqual([operationId]);
});

it('a sandbox revoke gets its refund confirmed, and the ledger downloads as CSV', { timeout: 60_000 }, async () => {
  const revoke = await json('/v1/esim-go/esims/8943108165015003887/bundles/esim_1GB_7D_GB_V2', {
    method: 'DELETE',
    headers: { 'idempotency-key': 'final-states-2' },
  });
  expect(revoke.status).toBe(200);
  const operationId = revoke.body.operationId as string;
  const record = await until(
    () => json(`/v1/operations/${operationId}`),
    (read) => (read.body.refund as { confirmed?: string } | undefined)?.confirmed !== null,
  );
  expect(record.body.refund).toMatchObject({ predicted: 'inventory', confirmed: 'inventory' });
  const response = await fetch(`${api}/v1/reports/refunds`, { headers: { accept: 'text/csv' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
  const [header, ...rows] = (await response.text()).trim().split(/\r?\n/);
  const columns = header?.split(',') ?? [];
  expect(columns).toEqual(
    expect.arrayContaining(['operationId', 'iccid', 'bundle', 'assignmentId', 'predicted', 'confirmed', 'mismatch']),
  );
  const row = rows.map((line) => Object.fromEntries(line.split(',').map((cell, index) => [columns[index], cell])));
  expect(row.find((cells) => cells.operationId === operationId)).toMatchObject({
    iccid: '8943108165015003887',
    predicted: 'inventory',
    confirmed: 'inventory',
    mismatch: 'false',
  });
});
