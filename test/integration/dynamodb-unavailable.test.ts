/**
 * Fail closed: when the idempotency store cannot be reached, the gateway answers 503 and never calls the
 * provider, because it could not take the lock that guarantees exactly-once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import { type Handler, configureEnvironment, invoke, startMonogoto } from '../../testkit/harness.js';
import { unusedPort } from '../../testkit/ports.js';

let simulator: MonogotoSimulator;

beforeAll(async () => {
  simulator = await startMonogoto();
  configureEnvironment({
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await unusedPort()}`,
    IDEMPOTENCY_TABLE_NAME: 'unreachable',
    AWS_MAX_ATTEMPTS: '1',
  });
});

afterAll(async () => {
  await simulator.server.stop();
});

it('answers 503 dependency-unavailable and sends nothing to Monogoto', async () => {
  const { handler } = (await import('../../functions/cancel-esim/index.js')) as unknown as { handler: Handler };
  const { cancelEsim } = (await import('../../shared/operations/cancel-esim/index.js')) as unknown as {
    cancelEsim: OperationDefinition;
  };
  const [esim] = simulator.esims().filter((candidate) => candidate.state === 'released');
  const answer = await invoke(handler, cancelEsim, {
    method: 'POST',
    path: `/v1/monogoto/esims/${esim?.iccid}/cancel`,
    headers: { 'Idempotency-Key': 'dynamo-down-1' },
    body: { matchingId: esim?.matchingId },
  });
  expect(answer.status).toBe(503);
  expect(answer.body.type).toMatch(/dependency-unavailable$/);
  expect(answer.body.detail).toMatch(/not called/);
  expect(answer.headers['retry-after']).toBeDefined();
  expect(simulator.server.calls).toHaveLength(0);
  expect(simulator.esim(esim?.iccid ?? '')?.state).toBe('released');
});
