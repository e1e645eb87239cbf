/**
 * What each kind of request costs in DynamoDB calls, on DynamoDB Local (design.md: at most 3 for a new key, 1 for a
 * replay, no writes for a dry run), and that the answer and its audit entry are written together.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { countDynamoDBCalls } from '../../testkit/dynamodb-calls.js';
import { clearDynamoDBFaults, failIdempotencyResultWrite } from '../../testkit/dynamodb-faults.js';
import { type Handler, invoke, loadOperation, startStn } from '../../testkit/harness.js';

let simulator: StnSimulator;
let handler: Handler;
let definition: OperationDefinition;
let serial = 0;

const fresh = () => {
  const id = `calls${(serial += 1)}x${Math.random().toString(36).slice(2, 8)}`;
  simulator.addActivation(activation(id, 'BUSY'));
  return id;
};
const cancel = (id: string, headers: Record<string, string>, query = '', budgetMs?: number) =>
  invoke(handler, definition, {
    method: 'POST',
    path: `/v1/stn/activations/${id}/cancel${query}`,
    headers,
    timeoutMs: budgetMs,
  });

const readOperation = async (operationId: string) => {
  const { documentClient } = await import('../../shared/dynamodb.js');
  return (
    await documentClient.send(new GetCommand({ TableName: process.env.OPERATIONS_TABLE_NAME, Key: { operationId } }))
  ).Item;
};

beforeAll(async () => {
  simulator = await startStn({ seed: false, requestsPerSecond: 1000 });
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation', {
    UPSTREAM_TIMEOUT_MS: '300',
    RECONCILE_AFTER_MS: '1',
  }));
});
afterAll(async () => simulator.server.stop());
beforeEach(() => clearDynamoDBFaults());

describe('DynamoDB calls per request', () => {
  it('a new key: lock + key marker + target lease in one transaction, the write-ahead record, then answer + lease release + own verdict + audit in one', async () => {
    const id = fresh();
    let answer: Awaited<ReturnType<typeof cancel>> | undefined;
    const calls = await countDynamoDBCalls(async () => (answer = await cancel(id, { 'Idempotency-Key': `new-${id}` })));
    expect(answer?.status).toBe(200);
    expect(calls.commands).toEqual(['TransactWriteItemsCommand', 'UpdateItemCommand', 'TransactWriteItemsCommand']);
    expect(calls.itemsWritten).toBe(8);
    const record = await readOperation(answer?.body.operationId as string);
    expect(record).toMatchObject({
      status: 'in_progress',
      httpStatus: 200,
      attempts: [expect.objectContaining({ attempt: 1, status: 'in_progress', upstreamStatus: 200 })],
    });
  });

  it('a replay: one call, and the audit trail is not appended to', async () => {
    const id = fresh();
    const headers = { 'Idempotency-Key': `replay-${id}` };
    const first = await cancel(id, headers);
    const calls = await countDynamoDBCalls(() => cancel(id, headers));
    expect(calls.total).toBe(1);
    expect((await readOperation(first.body.operationId as string))?.attempts).toHaveLength(1);
  });

  it('a dry run: no call at all', async () => {
    const calls = await countDynamoDBCalls(() => cancel(fresh(), {}, '?dryRun=true'));
    expect(calls.total).toBe(0);
  });

  it('a failed execution releases the key and records the attempt in one transaction', async () => {
    const id = fresh();
    simulator.server.injectFault({ kind: 'status', status: 500, path: '/api/CancelNewSubscription' });
    let answer: Awaited<ReturnType<typeof cancel>> | undefined;
    const calls = await countDynamoDBCalls(
      async () => (answer = await cancel(id, { 'Idempotency-Key': `failed-${id}` })),
    );
    expect(answer?.status).toBe(502);
    expect(calls.commands).toEqual(['TransactWriteItemsCommand', 'UpdateItemCommand', 'TransactWriteItemsCommand']);
    expect(await readOperation(answer?.body.operationId as string)).toMatchObject({
      status: 'unknown',
      attempts: [expect.objectContaining({ status: 'unknown', upstreamStatus: 500 })],
    });
  });

  it('when saving the answer fails: 503, the attempt that reached the provider is still audited, the retry reconciles', async () => {
    const id = fresh();
    const headers = { 'Idempotency-Key': `joint-${id}` };
    failIdempotencyResultWrite(id);
    const failed = await cancel(id, headers, '', 1500);
    expect(failed.status).toBe(503);
    expect(failed.body.type).toMatch(/outcome-pending$/);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const retried = await cancel(id, headers);
    expect(retried.status).toBe(200);
    expect(retried.body.reconciled).toBe(true);
    const record = await readOperation(retried.body.operationId as string);
    expect(record?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, upstreamStatus: 200 }),
      expect.objectContaining({ attempt: 2, reconciled: true }),
    ]);
    expect(simulator.cancellations().filter((cancelled) => cancelled.activationId === id)).toHaveLength(1);
  });
});
