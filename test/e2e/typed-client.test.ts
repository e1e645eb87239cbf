/** The README's typed-client example (docs/client/example.ts), run against `npm start`. */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cancelMatchingId, gatewayClient } from '../../docs/client/example.js';

let runner: ChildProcess;
let output = '';

beforeAll(async () => {
  runner = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], { env: { ...process.env, PORT: '0', MONOGOTO_BASE_URL: '', ESIM_GO_BASE_URL: '', STN_BASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  runner.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl+C')) {
    if (runner.exitCode !== null || Date.now() > deadline) throw new Error(`the runner did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
afterAll(() => void runner.kill('SIGTERM'));

it('previews and cancels with typed requests and answers, and reads the operation back', async () => {
  const api = /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
  const first = await cancelMatchingId(api, '8944000000000000027', 'K7Q2M9XW4RT8NB3VZP6HJC5L', 'typed-1');
  expect(first).toMatchObject({ previewStatus: 'validated', status: 'succeeded', operationId: expect.stringMatching(/^op_/) });
  const refused = await cancelMatchingId(api, '8944000000000000027', 'OTHER', 'typed-1');
  expect(refused.problem).toBe('https://sim-cancel-gateway.dev/problems/idempotency-key-reused');
  const record = await gatewayClient(api).GET('/v1/operations/{operationId}', { params: { path: { operationId: first.operationId as string } } });
  expect(record.data?.status).toBe('succeeded');
});
