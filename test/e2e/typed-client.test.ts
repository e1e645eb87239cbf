/** The README's typed-client example (docs/client/example.ts), run against `npm start`. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cancelMatchingId, gatewayClient } from '../../docs/client/example.js';
import { type RunnerProcess, startRunnerProcess } from '../support/runner-process.js';

let runner: RunnerProcess;

beforeAll(async () => {
  runner = await startRunnerProcess();
});
afterAll(() => void runner.child.kill('SIGTERM'));

it('previews and cancels with typed requests and answers, and reads the operation back', async () => {
  const api = runner.url;
  const first = await cancelMatchingId(api, '8944000000000000027', 'K7Q2M9XW4RT8NB3VZP6HJC5L', 'typed-1');
  expect(first).toMatchObject({
    previewStatus: 'validated',
    status: 'succeeded',
    operationId: expect.stringMatching(/^op_/),
  });
  const refused = await cancelMatchingId(api, '8944000000000000027', 'OTHER', 'typed-1');
  expect(refused.problem).toBe('https://sim-cancel-gateway.dev/problems/idempotency-key-reused');
  const record = await gatewayClient(api).GET('/v1/operations/{operationId}', {
    params: { path: { operationId: first.operationId as string } },
  });
  expect(record.data?.status).toBe('succeeded');
});
