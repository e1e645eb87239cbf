/**
 * Provider credentials are read from Secrets Manager once per container and cached (SECRETS_MAX_AGE_SECONDS), not on
 * every request. Secrets Manager is a small HTTP server speaking its JSON protocol, reached through the SDK's
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, so the real Powertools parameters client and SDK make the calls.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { STN_SANDBOX_API_KEY, type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { type Handler, configureEnvironment, invoke, loadOperation, startStn } from '../../testkit/harness.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stn-abc123';
const reads: string[] = [];
const secretsManager = createServer((request: IncomingMessage, response: ServerResponse) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    reads.push(`${String(request.headers['x-amz-target'])} ${(JSON.parse(body) as { SecretId: string }).SecretId}`);
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(
      JSON.stringify({
        ARN: SECRET_ARN,
        Name: 'stn',
        SecretString: JSON.stringify({ apiKey: STN_SANDBOX_API_KEY }),
        VersionId: 'v1',
        CreatedDate: 1_700_000_000,
      }),
    );
  });
});

let simulator: StnSimulator;
let handler: Handler;
let definition: OperationDefinition;

beforeAll(async () => {
  await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
  simulator = await startStn({ seed: false, requestsPerSecond: 1000 });
  configureEnvironment({
    STN_SECRET_ARN: SECRET_ARN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`,
  });
  delete process.env.STN_API_KEY;
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation'));
});
afterAll(async () => {
  await simulator.server.stop();
  secretsManager.close();
});

it('reads the provider key from Secrets Manager once for many requests', async () => {
  for (let index = 0; index < 5; index += 1) {
    const id = `secretCached${index}`;
    simulator.addActivation(activation(id, 'BUSY'));
    const answer = await invoke(handler, definition, {
      method: 'POST',
      path: `/v1/stn/activations/${id}/cancel`,
      headers: { 'Idempotency-Key': `secret-${id}` },
    });
    expect(answer.status).toBe(200);
  }
  expect(simulator.cancellations()).toHaveLength(5);
  expect(reads).toEqual([`secretsmanager.GetSecretValue ${SECRET_ARN}`]);
});
