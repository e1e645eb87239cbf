/**
 * Failing dependencies: the gateway fails closed. When DynamoDB throttles or fails before the provider write, or
 * Secrets Manager cannot be read, the caller gets 503 and the provider is never called.
 */
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { clearDynamoDBFaults, failDynamoDB } from '../../testkit/dynamodb-faults.js';
import { type Handler, configureEnvironment, invoke, newTable, startStn } from '../../testkit/harness.js';
import { unusedPort } from '../../testkit/ports.js';

let stn: StnSimulator;
let handler: Handler;
let definition: OperationDefinition;
let serial = 0;

beforeAll(async () => {
  stn = await startStn({ seed: false, requestsPerSecond: 10_000 });
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    AWS_MAX_ATTEMPTS: '1',
  });
  ({ handler } = (await import('../../functions/cancel-activation/index.js')) as unknown as { handler: Handler });
  ({ cancelActivation: definition } =
    (await import('../../shared/operations/cancel-activation/index.js')) as unknown as {
      cancelActivation: OperationDefinition;
    });
});
afterAll(async () => stn.server.stop());
beforeEach(() => clearDynamoDBFaults());

const cancel = async () => {
  const id = `dep${(serial += 1)}x${Math.random().toString(36).slice(2, 8)}`;
  stn.addActivation(activation(id, 'BUSY'));
  stn.server.calls.length = 0;
  const answer = await invoke(handler, definition, {
    method: 'POST',
    path: `/v1/stn/activations/${id}/cancel`,
    headers: { 'Idempotency-Key': `dep-${id}` },
  });
  return { answer, id };
};

it.each([
  [
    'DynamoDB throttling the idempotency lock (with the lease, and alone)',
    () => {
      failDynamoDB('TransactWriteItemsCommand', {
        matching: 'INPROGRESS',
        table: process.env.IDEMPOTENCY_TABLE_NAME,
        times: 1,
      });
      failDynamoDB('PutItemCommand', { matching: 'INPROGRESS', table: process.env.IDEMPOTENCY_TABLE_NAME, times: 1 });
    },
  ],
  [
    'DynamoDB failing on the write-ahead attempt record, right before the send',
    () => failDynamoDB('UpdateItemCommand', { matching: ':pending', times: 1 }),
  ],
  [
    'DynamoDB failing on the target lease of the slow path',
    () => {
      failDynamoDB('TransactWriteItemsCommand', {
        matching: 'INPROGRESS',
        table: process.env.IDEMPOTENCY_TABLE_NAME,
        times: 1,
      });
      failDynamoDB('UpdateItemCommand', { matching: ':holder', times: 1 });
    },
  ],
])('fails closed with 503 and no provider call: %s', async (_label, fault) => {
  fault();
  const { answer, id } = await cancel();
  expect(answer.status).toBe(503);
  expect(answer.body).toMatchObject({
    type: expect.stringMatching(/dependency-unavailable$/),
    detail: expect.stringMatching(/not called/),
  });
  expect(answer.headers['retry-after']).toBeDefined();
  expect(stn.server.calls).toHaveLength(0);
  expect(stn.cancellations().filter((cancellation) => cancellation.activationId === id)).toHaveLength(0);
});

it('fails closed with 503 naming the credentials when Secrets Manager cannot be read, and calls no provider', async () => {
  process.env.STN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:stn-AbCdEf';
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${await unusedPort()}`;
  const { resetConfigCache } = await import('../../shared/config.js');
  const { forgetClient } = await import('../../shared/providers/provider.js');
  const { stn: stnProvider } = await import('../../shared/providers/stn/provider.js');
  // The settings changed: a new container would build its client from them.
  resetConfigCache();
  forgetClient(stnProvider);
  try {
    const { answer } = await cancel();
    expect(answer.status).toBe(503);
    expect(answer.body.detail).toMatch(/sTN credentials could not be read from Secrets Manager/);
    expect(stn.server.calls).toHaveLength(0);
  } finally {
    delete process.env.STN_SECRET_ARN;
    resetConfigCache();
    forgetClient(stnProvider);
  }
});
