/**
 * `sim-cancel batch` as a user runs it: the bin launcher in a child process, against a fake of the batch API over
 * real HTTP. Polls every 20 ms; each child is killed after 20 s, so a CLI that hangs fails the test instead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signRequest } from '../../scripts/smoke.js';
import { type FakeBatchApi, type FakeBatchApiOptions, startFakeBatchApi } from '../../testkit/fake-batch-api.js';
import { unusedPort } from '../../testkit/ports.js';

const TIMEOUT_MS = 20_000;
const bin = fileURLToPath(new URL('../../cli/sim-cancel.mjs', import.meta.url));
const CSV =
  'iccid,reason\n8944000000000000011,lost\n8944000000000000029,lost\n8944000000000000037,stolen\n8944000000000000045,lost\n';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** Credentials in the environment, and no profile files: the chain must find these and nothing else. */
const awsEnv = {
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_REGION: 'eu-west-1',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const runCli = (
  args: string[],
  options: {
    stdin?: string;
    env?: Record<string, string>;
    onStdout?: (stdout: string, child: ChildProcess) => void;
  } = {},
) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      // Only what the CLI needs: the test runner's AWS variables must not leak in.
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
      timeout: TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

let dir: string;
let file: string;
let api: FakeBatchApi | undefined;
const start = async (options: FakeBatchApiOptions = {}) => (api = await startFakeBatchApi(options));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-cancel-cli-'));
  file = join(dir, 'orders.csv');
  await writeFile(file, CSV);
});

afterEach(async () => {
  await api?.close();
  api = undefined;
  await rm(dir, { recursive: true, force: true });
});

const batchArgs = (url: string, ...extra: string[]) => [
  'batch',
  file,
  '--operation',
  'stn-cancel',
  '--url',
  url,
  '--interval',
  '0.02',
  ...extra,
];

describe('sim-cancel batch', () => {
  it(
    'with --yes: submits the file, prints the preview, confirms, shows progress and writes the report next to it',
    async () => {
      const fake = await start({ outcomes: ['succeeded', 'succeeded', 'rejected', 'succeeded'] });
      const run = await runCli(batchArgs(fake.url, '--yes'), { env: awsEnv });

      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const reportFile = join(dir, 'orders.report.csv');
      expect(run.stdout.split('\n')).toEqual(
        expect.arrayContaining([
          `submitted batch b_1 (stn-cancel, ${file})`,
          'previewing 4 rows...',
          'preview: 3 would succeed, 1 would be refused by a guard, 0 would be refunded, 0 invalid, 0 unreadable',
          'confirmed batch b_1; running',
          // Not a terminal: plain lines, the first at once; the CLI's own estimate needs two polls.
          '[######------------------] 1/4  25% | --:-- left | 1 succeeded, 0 rejected, 0 failed, 0 invalid, 1 in progress',
        ]),
      );
      expect(run.stdout).not.toContain('[y/N]');
      expect(lastLine(run.stdout)).toBe(
        `completed: 3 succeeded, 1 rejected, 0 failed, 0 invalid, 0 cancelled of 4; report: ${reportFile}`,
      );
      expect(await readFile(reportFile, 'utf8')).toBe(fake.report('b_1'));

      const [submit, ...moreSubmits] = fake.requestsTo('POST', '/v1/batches');
      expect(moreSubmits).toEqual([]);
      expect(submit?.url).toBe('/v1/batches?operation=stn-cancel');
      expect(submit?.headers['content-type']).toBe('text/csv');
      expect(submit?.headers['idempotency-key']).toMatch(/^batch-[0-9a-f]{64}$/);
      expect(submit?.body).toBe(CSV);
      expect(
        fake.requestsTo('POST', '/v1/batches/b_1/confirm').map((request) => request.headers['idempotency-key']),
      ).toEqual(['b_1-confirm']);
      expect(fake.requestsTo('GET', '/v1/batches/b_1/items')[0]?.headers.accept).toBe('text/csv');
      // 127.0.0.1 is the local runner: never signed, even with credentials at hand.
      expect(fake.requests.map((request) => request.headers.authorization)).toEqual(fake.requests.map(() => undefined));
    },
    TIMEOUT_MS,
  );

  it(
    'asks first, and a "n" runs nothing: exit 1, no confirm, no report',
    async () => {
      const fake = await start();
      const run = await runCli(batchArgs(fake.url), { stdin: 'n\n' });

      expect(run.code).toBe(1);
      expect(run.stdout).toContain('Run stn-cancel for 4 rows? [y/N] n\n');
      expect(lastLine(run.stdout)).toMatch(/^not confirmed: nothing ran\. Batch b_1 stays previewed/);
      expect(fake.requestsTo('POST', '/v1/batches/b_1/confirm')).toEqual([]);
      await expect(stat(join(dir, 'orders.report.csv'))).rejects.toThrow(/ENOENT/);
    },
    TIMEOUT_MS,
  );

  it(
    'resumes the batch of an earlier run on the same file: same Idempotency-Key, one batch, one confirm',
    async () => {
      const fake = await start();
      expect((await runCli(batchArgs(fake.url), { stdin: 'n\n' })).code).toBe(1);

      const second = await runCli(batchArgs(fake.url), { stdin: 'y\n' });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('resuming batch b_1 (previewed): this file was submitted for stn-cancel before');
      expect(second.stdout).toContain('[y/N] ');

      // Done already: nothing to ask or confirm, only the report to write again.
      const third = await runCli(batchArgs(fake.url, '--yes'));
      expect(third.code).toBe(0);
      expect(third.stdout).toContain('resuming batch b_1 (completed)');
      expect(lastLine(third.stdout)).toMatch(/^completed: 4 succeeded, .* of 4; report: /);

      const keys = fake.requestsTo('POST', '/v1/batches').map((request) => request.headers['idempotency-key']);
      expect(keys).toHaveLength(3);
      expect(new Set(keys).size).toBe(1);
      expect(fake.requestsTo('POST', '/v1/batches/b_1/confirm')).toHaveLength(1);
    },
    TIMEOUT_MS,
  );

  it(
    'prints the detail and the field errors of a 400 and exits 1',
    async () => {
      const fake = await start({
        rejectSubmit: {
          detail: 'The file does not fit the operation stn-cancel.',
          errors: [
            { path: 'header', message: 'unknown column resaon' },
            { path: 'rows[2].iccid', message: 'must be 19 or 20 digits' },
          ],
        },
      });
      const run = await runCli(batchArgs(fake.url, '--yes'));

      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        [
          'error: Invalid batch (400)',
          '  The file does not fit the operation stn-cancel.',
          '  header: unknown column resaon',
          '  rows[2].iccid: must be 19 or 20 digits',
          '',
        ].join('\n'),
      );
      expect(fake.requests).toHaveLength(1);
    },
    TIMEOUT_MS,
  );

  it(
    'signs every request with SigV4 (execute-api, credentials from the environment) for a deployed URL',
    async () => {
      const fake = await start();
      // Not localhost/127.0.0.1, so "deployed"; still the fake's loopback socket (IPv4-mapped IPv6 address).
      const run = await runCli(batchArgs(`http://[::ffff:127.0.0.1]:${fake.port}`, '--yes'), { env: awsEnv });

      expect(run.code).toBe(0);
      expect(fake.requests.length).toBeGreaterThanOrEqual(4);
      for (const request of fake.requests) {
        const authorization = String(request.headers.authorization);
        expect(authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
        );
        // Signing what arrived, at the same time, gives the same signature: the CLI signed what it sent.
        const signed = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
        const headers = Object.fromEntries(
          signed
            .filter((name) => name !== 'host' && name !== 'x-amz-date')
            .map((name) => [name, String(request.headers[name])]),
        );
        const date = String(request.headers['x-amz-date']).replace(
          /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
          '$1-$2-$3T$4:$5:$6Z',
        );
        const again = await signRequest(
          {
            method: request.method,
            url: new URL(request.url, `http://${request.headers.host}`),
            headers,
            body: request.body === '' ? undefined : request.body,
          },
          { region: 'eu-west-1', credentials, signingDate: new Date(date) },
        );
        expect(again.authorization).toBe(authorization);
      }
    },
    TIMEOUT_MS,
  );

  it(
    'says how to get credentials when a deployed URL needs signing and the chain finds none',
    async () => {
      const noCredentials = {
        AWS_CONFIG_FILE: '/nonexistent/config',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      // Signing comes before sending: this host is never contacted.
      const run = await runCli(batchArgs('https://abc123.execute-api.eu-west-1.amazonaws.com/v1', '--yes'), {
        env: noCredentials,
      });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^error: no AWS credentials to sign for abc123\.execute-api\.eu-west-1\.amazonaws\.com/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'waits out a failed poll or two (503) with a warning, and still completes',
    async () => {
      const fake = await start({ unavailablePolls: [3, 4] });
      const run = await runCli(batchArgs(fake.url, '--yes'));

      expect(run.code).toBe(0);
      expect(run.stderr).toBe('warning: Service unavailable (503); polling again\n'.repeat(2));
      expect(lastLine(run.stdout)).toMatch(/^completed: 4 succeeded/);
    },
    TIMEOUT_MS,
  );

  it(
    'exits 1 when the batch gets cancelled, and still writes the report of what was done',
    async () => {
      const fake = await start({ cancelAtRow: 2 });
      const run = await runCli(batchArgs(fake.url, '--yes'));

      expect(run.code).toBe(1);
      const reportFile = join(dir, 'orders.report.csv');
      expect(lastLine(run.stdout)).toBe(
        `cancelled: 2 succeeded, 0 rejected, 0 failed, 0 invalid, 2 cancelled of 4; report: ${reportFile}`,
      );
      expect(await readFile(reportFile, 'utf8')).toBe(fake.report('b_1'));
    },
    TIMEOUT_MS,
  );

  it(
    'on Ctrl-C stops watching with exit 130 and says the batch goes on; the same command resumes it',
    async () => {
      const fake = await start({ previewPolls: 0 });
      let interrupted = false;
      // Polls 5 s apart: the interrupt lands in a wait between two polls.
      const args = ['batch', file, '--operation', 'stn-cancel', '--url', fake.url, '--interval', '5', '--yes'];
      const run = await runCli(args, {
        onStdout: (stdout, child) => {
          if (interrupted || !stdout.includes('confirmed batch b_1; running')) return;
          interrupted = true;
          child.kill('SIGINT');
        },
      });

      expect(run.code).toBe(130);
      expect(lastLine(run.stdout)).toBe(
        'interrupted: batch b_1 stays at the server (running, if it was confirmed); the same command resumes it',
      );
      expect(fake.requestsTo('GET', '/v1/batches/b_1/items')).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it(
    'says when the API cannot be reached, and that npm start runs it locally',
    async () => {
      const run = await runCli(batchArgs(`http://127.0.0.1:${await unusedPort()}`, '--yes'));

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n.*npm start/);
    },
    TIMEOUT_MS,
  );
});

describe('sim-cancel usage', () => {
  it('is the bin of package.json, executable: npm exec runs it directly, shebang and all', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      bin?: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ 'sim-cancel': 'cli/sim-cancel.mjs' });
    expect((await stat(bin)).mode & 0o111).not.toBe(0);
    expect(await readFile(bin, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it(
    '--help documents the command, the output and the exit codes, and exits 0',
    async () => {
      const run = await runCli(['--help']);

      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: sim-cancel batch <file\.csv> --operation <name>/);
      expect(run.stdout).toContain('Exit codes:');
    },
    TIMEOUT_MS,
  );

  it.each([
    [['batch', 'orders.csv'], 'error: missing --operation <name>'],
    [['batch', '--operation', 'stn-cancel'], 'error: missing the CSV file'],
    [['batch', 'orders.csv', '--operation', 'stn-cancel', '--yse'], "error: Unknown option '--yse'"],
    [['batch', 'orders.csv', '--operation', 'stn-cancel', '--interval', '0'], 'error: --interval 0 is not a positive'],
    [['batch', 'no-such.csv', '--operation', 'stn-cancel'], 'error: cannot read no-such.csv: no such file'],
  ])(
    '%j exits 2: %s',
    async (args, message) => {
      const run = await runCli(args);

      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
    },
    TIMEOUT_MS,
  );
});
