/**
 * What an operations person does: `npm start`, then the CLI on a CSV of the sandbox's activations with --yes. The CLI
 * previews, confirms, waits and writes the per-item report next to the input; the report says what each row became.
 * sTN answers the cancels CANCELLING: the CLI waits (saying so) until the runner's follow-ups (FOLLOW_UP_FIRST_DELAY_SECONDS
 * 2 under `npm start`) find them CANCELLED, which the sandbox makes them 5 s after the cancel.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseCsv } from '../../shared/history/csv.js';
import { startRunnerProcess } from '../support/runner-process.js';

let runner: ChildProcess;
let api = '';

beforeAll(async () => {
  const started = await startRunnerProcess();
  runner = started.child;
  api = started.url;
});
afterAll(() => {
  if (runner.exitCode === null) runner.kill('SIGKILL');
});

it('runs a sandbox CSV with --yes and writes the report next to it', { timeout: 60_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'batch-cli-'));
  const input = join(folder, 'activations.csv');
  // The sandbox's BUSY and INIT activations can be cancelled, its DONE one cannot; the last row is not an id.
  writeFileSync(
    input,
    'activationId,note\nq7LmXw2RgxhI5Zvz,reseller closed\na9Fh2JkL0pZx7TbN,\nDn3KpT8vYc1WsQe4,\nnot an id,\n',
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      'cli/sim-cancel.mjs',
      'batch',
      input,
      '--operation',
      'cancel-activation',
      '--url',
      api,
      '--yes',
      '--interval',
      '0.2',
    ],
    { timeout: 50_000 },
  );
  expect(stdout).toMatch(/preview: /);
  // Both cancels answered CANCELLING: the CLI says what it waits for, with the counts in progress.
  expect(stdout).toMatch(/^all rows sent; waiting for 2 rows the provider completes later \(in progress\)/m);
  expect(stdout).toMatch(/^\[.*\] 2\/4 .* 2 in progress$/m);
  expect(stdout).toMatch(
    /^completed: 2 succeeded, 1 rejected, 0 failed, 1 invalid, 0 cancelled of 4; report: .*activations\.report\.csv$/m,
  );
  const [header = [], ...rows] = parseCsv(readFileSync(join(folder, 'activations.report.csv'), 'utf8'));
  const status = header.indexOf('status');
  expect(rows.map((row) => row[status])).toEqual(['succeeded', 'succeeded', 'rejected', 'invalid']);
  expect(rows[0]?.[header.indexOf('operationId')]).toMatch(/^op_/);
});
