/**
 * Logs are structured, carry the correlation id, and never contain a credential, a token or a raw
 * Idempotency-Key, whatever path a request takes.
 */
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { MONOGOTO_SANDBOX_CREDENTIALS, type MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import { type Handler, apiGatewayEvent, configureEnvironment, newTable, startMonogoto } from '../../testkit/harness.js';
import { lambdaContext } from '../../infra/local/apigw-event.js';

// Before any import creates the shared logger (the harness imports the definitions, which import it).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

let simulator: MonogotoSimulator;
const lines: string[] = [];
const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write.bind(stream));

beforeAll(async () => {
  simulator = await startMonogoto();
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: '300',
  });
  // Powertools writes INFO to stdout and WARN/ERROR to stderr: capture both.
  streams.forEach((stream, index) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (originalWrites[index] as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
});

afterAll(async () => {
  streams.forEach((stream, index) => (stream.write = originalWrites[index] as typeof stream.write));
  await simulator.server.stop();
});

it('logs each request with its correlation id and no secret', async () => {
  const { handler } = (await import('../../functions/cancel-esim/index.js')) as unknown as { handler: Handler };
  const { cancelEsim } = (await import('../../shared/operations/cancel-esim/index.js')) as unknown as {
    cancelEsim: OperationDefinition;
  };
  const released = simulator.esims().filter((esim) => esim.state === 'released');
  const keys = ['customer-order-4711-secret-ref', 'customer-order-4712-secret-ref', 'customer-order-4713-secret-ref'];
  const requestIds: string[] = [];
  const send = async (index: number) => {
    const esim = released[index];
    const event = apiGatewayEvent(cancelEsim, {
      method: 'POST',
      path: `/v1/monogoto/esims/${esim?.iccid}/cancel`,
      headers: { 'Idempotency-Key': keys[index] ?? '' },
      body: { matchingId: esim?.matchingId },
    });
    requestIds.push(event.requestContext.requestId);
    return handler(event, lambdaContext('cancel-esim', 28_000));
  };

  expect((await send(0)).statusCode).toBe(200);
  simulator.expireTokens();
  simulator.server.injectFault({ kind: 'status', status: 500, path: '/api/v1/eSIM/cancel' });
  expect((await send(1)).statusCode).toBe(502);
  expect((await send(2)).statusCode).toBe(200);

  const logs = lines.join('');
  const records = lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(records.length, lines.join('').slice(0, 3000)).toBeGreaterThanOrEqual(3);
  for (const requestId of requestIds) expect(records.some((record) => record.correlation_id === requestId)).toBe(true);
  expect(
    records.some(
      (record) =>
        record.message === 'operation failed' && record.level === 'WARN' && record.problem === 'upstream-failed',
    ),
  ).toBe(true);

  const secrets = [MONOGOTO_SANDBOX_CREDENTIALS.password, ...simulator.issuedTokens(), ...keys];
  expect(simulator.issuedTokens().length).toBeGreaterThanOrEqual(2);
  for (const secret of secrets) expect(logs).not.toContain(secret);
});
