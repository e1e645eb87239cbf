/**
 * What a new user does: `npm start`, paste the printed curl, paste it again, then send a bad request.
 * The runner runs as a child process exactly as `npm start` runs it; the printed commands run in a shell.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { routes } from '../../shared/http/routes.js';
import { startRunnerProcess } from '../support/runner-process.js';

let runner: ChildProcess;
let output = '';

const run = promisify(execFile);
const shell = async (command: string) => (await run('bash', ['-c', command], { timeout: 20_000 })).stdout;

/** Splits `curl -i` output into status, headers and JSON body. */
const parseCurl = (text: string) => {
  const [head = '', body = ''] = text.split(/\r?\n\r?\n/, 2);
  const [statusLine = '', ...headerLines] = head.split(/\r?\n/);
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as Record<string, unknown> };
};

beforeAll(async () => {
  const started = await startRunnerProcess();
  runner = started.child;
  output = started.output();
});

afterAll(() => {
  if (runner.exitCode === null) runner.kill('SIGKILL');
});

it('serves the printed curl, replays it, and refuses a bad check digit without calling Monogoto', async () => {
  const curl = output
    .split('\n')
    .find((line) => line.trim().startsWith('curl -i -X POST') && line.includes('idempotency-key'))
    ?.trim();
  expect(curl, output).toBeDefined();
  const sandbox = /Monogoto\s+built-in sandbox at (http:\/\/\S+)/.exec(output)?.[1];
  expect(sandbox, output).toBeDefined();

  const first = parseCurl(await shell(curl as string));
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ operation: 'cancel-esim', status: 'succeeded', upstream: { status: 200 } });
  expect(first.body.operationId).toEqual(expect.any(String));

  const second = parseCurl(await shell(curl as string));
  expect(second.status).toBe(200);
  expect(second.headers['idempotent-replayed']).toBe('true');
  expect(second.body).toEqual(first.body);

  const otherMatchingId = parseCurl(
    await shell((curl as string).replace(/"matchingId":"[^"]+"/, '"matchingId":"SOMETHING-ELSE"')),
  );
  expect(otherMatchingId.status).toBe(422);

  const iccid = /esims\/(\d+)\/cancel/.exec(curl as string)?.[1] ?? '';
  const wrongDigit = `${iccid.slice(0, -1)}${(Number(iccid.slice(-1)) + 1) % 10}`;
  const invalid = parseCurl(await shell((curl as string).replace(iccid, wrongDigit).replace('try-it-1', 'try-it-2')));
  expect(invalid.status).toBe(400);
  expect(invalid.headers['content-type']).toBe('application/problem+json');
  expect(invalid.body.errors).toEqual([expect.objectContaining({ path: 'iccid' })]);

  const calls = (await (await fetch(`${sandbox}/__sim/calls`)).json()) as Array<{ path: string }>;
  expect(calls.filter((call) => call.path === '/api/v1/eSIM/cancel')).toHaveLength(1);

  const unknownRoute = await fetch(output.match(/API\s+(http:\/\/\S+)/)?.[1] + '/v1/nothing-here');
  expect(unknownRoute.status).toBe(404);
  expect(unknownRoute.headers.get('content-type')).toBe('application/problem+json');
});

it('serves the printed eSIM Go requests: the preview predicts the revoke, the revoke replays, the guard holds', async () => {
  const lines = output.split('\n').map((line) => line.trim());
  const preview = lines.find((line) => line.startsWith('curl -i -X DELETE') && line.includes('dryRun=true'));
  const revoke = lines.find((line) => line.startsWith('curl -i -X DELETE') && line.includes('idempotency-key'));
  expect(preview, output).toBeDefined();
  expect(revoke, output).toBeDefined();
  const sandbox = /eSIM Go\s+built-in sandbox at (http:\/\/\S+)/.exec(output)?.[1];

  const predicted = parseCurl(await shell(preview as string));
  expect(predicted.status).toBe(200);
  expect(predicted.body).toMatchObject({ status: 'validated', preview: { target: { id: expect.any(String) } } });

  const revoked = parseCurl(await shell(revoke as string));
  expect(revoked.status).toBe(200);
  const replayed = parseCurl(await shell(revoke as string));
  expect(replayed.headers['idempotent-replayed']).toBe('true');
  const guarded = parseCurl(await shell((revoke as string).replace('try-revoke-1', 'try-revoke-2')));
  expect(guarded.status).toBe(422);
  expect(guarded.body.type).toMatch(/esim-return-risk$/);

  const state = (await (await fetch(`${sandbox}/__sim/state`)).json()) as {
    revocations: Array<{ assignmentId: string }>;
  };
  expect(state.revocations.map((revocation) => revocation.assignmentId)).toEqual([
    (predicted.body.preview as { target: { id: string } }).target.id,
  ]);
});

it('serves the printed sTN requests: preview, cancel in progress, replay, and a DONE activation refused', async () => {
  const lines = output.split('\n').map((line) => line.trim());
  const sTnLines = lines.filter((line) => line.startsWith('curl') && line.includes('/v1/stn/'));
  const [preview, cancel, done] = [
    sTnLines.find((line) => line.includes('dryRun=true')),
    sTnLines.find((line) => line.includes('try-stn-1')),
    sTnLines.find((line) => line.includes('try-stn-2')),
  ];
  expect(
    [preview, cancel, done].every((line) => line !== undefined),
    output,
  ).toBe(true);
  expect(parseCurl(await shell(preview as string)).body).toMatchObject({
    status: 'validated',
    preview: { currentStatus: 'BUSY', cancelWouldBeAccepted: true },
  });
  const first = parseCurl(await shell(cancel as string));
  expect(first.body).toMatchObject({ status: 'in_progress', activationStatus: 'CANCELLING' });
  expect(parseCurl(await shell(cancel as string)).headers['idempotent-replayed']).toBe('true');
  const refused = parseCurl(await shell(done as string));
  expect(refused.status).toBe(422);
  expect(refused.body.detail).toMatch(/DONE/);
});

it('serves the event path locally and the audit trail for both paths', async () => {
  const api = /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
  const detail = JSON.stringify({ idempotencyKey: 'evt-1', input: { activationId: 'a9Fh2JkL0pZx7TbN' } });
  const put = await fetch(`${api}/local/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      Entries: [{ Source: 'shop.orders', DetailType: 'Cancel Activation Requested', Detail: detail }],
    }),
  });
  const { entries } = (await put.json()) as {
    entries: Array<{ matchedRule: string; batchResponse: { batchItemFailures: unknown[] } }>;
  };
  expect(entries).toEqual([
    expect.objectContaining({ matchedRule: 'cancel-activation-requested', batchResponse: { batchItemFailures: [] } }),
  ]);
  const outcomes = (await (await fetch(`${api}/local/outcome-events`)).json()) as Array<{
    detailType: string;
    detail: { operationId: string; source: string; caller: string };
  }>;
  const fromEvent = outcomes.find((outcome) => outcome.detail.source === 'eventbridge');
  expect(fromEvent?.detailType).toBe('Cancel Activation In Progress');
  const fromHttp = outcomes.find((outcome) => outcome.detail.source === 'http');
  // The local caller owns what it asked over HTTP; what the bus asked belongs to the bus's source.
  expect((await fetch(`${api}/v1/operations/${fromHttp?.detail.operationId}`)).status).toBe(200);
  expect((await fetch(`${api}/v1/operations/${fromEvent?.detail.operationId}`)).status).toBe(404);
});

it('passes the smoke script (SigV4-signed dry runs of every operation) against the running API', async () => {
  const api = /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'scripts/smoke.ts', '--url', api, '--region', 'us-east-1'],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_PROFILE: '',
      },
      timeout: 30_000,
    },
  );
  // Every route (an operation's dry run, or a read of a route that is not an operation) and an unknown route.
  expect(stdout).toContain(`smoke: ${routes.length + 1} passed, 0 failed`);
});

it('refuses header injection (a bare CR inside a header) before any handler runs', async () => {
  const { port } = new URL(/API\s+(http:\/\/\S+)/.exec(output)?.[1] as string);
  const { connect } = await import('node:net');
  const reply = await new Promise<string>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write(
        'POST /v1/stn/activations/q7LmXw2RgxhI5Zvz/cancel HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\rInjected: yes\r\n\r\n',
      ),
    );
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('close', () => resolve(data));
    setTimeout(() => socket.destroy(), 2000);
  });
  expect(reply).toMatch(/^HTTP\/1\.1 400/);
});

it('stops cleanly on SIGTERM', async () => {
  const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
  runner.kill('SIGTERM');
  expect(await exited).toBe(0);
});
