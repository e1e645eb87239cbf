/**
 * Powertools' client on an endpoint without transactions (embedded dynalite, as `npm start` runs): the answer and
 * the audit entry are written side by side, and a failed audit write is reported without failing the answer.
 * (On DynamoDB Local the same writes go in one transaction: dynamodb-calls.test.ts.)
 */
import { DeleteItemCommand, GetItemCommand, type Update, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, dynamoClient, ensureTables, startDynamo } from '../../infra/local/dynamodb.js';
import type * as IdempotencyClient from '../../shared/idempotency-client.js';

let dynamo: LocalDynamo;
let subject: typeof IdempotencyClient;
const tables = { idempotency: 'idempotency-dynalite', operations: 'operations-dynalite' };

const auditUpdate = (table: string, operationId: string): Update => ({
  TableName: table,
  Key: { operationId: { S: operationId } },
  UpdateExpression: 'SET #status = :status',
  ExpressionAttributeNames: { '#status': 'status' },
  ExpressionAttributeValues: { ':status': { S: 'succeeded' } },
});
const answerWrite = (id: string) =>
  new UpdateItemCommand({
    TableName: tables.idempotency,
    Key: { id: { S: id } },
    UpdateExpression: 'SET #status = :status',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': { S: 'COMPLETED' } },
  });
const read = async (table: string, key: Record<string, { S: string }>) =>
  (await dynamoClient(dynamo.endpoint).send(new GetItemCommand({ TableName: table, Key: key }))).Item;

beforeAll(async () => {
  dynamo = await startDynamo(undefined);
  await ensureTables(dynamoClient(dynamo.endpoint), tables);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  subject = await import('../../shared/idempotency-client.js');
});
afterAll(async () => dynamo.stop());

describe('the idempotency client without transactions', () => {
  it('writes the answer and the joined audit entry, each once', async () => {
    const failures: unknown[] = [];
    await subject.withJoinedWrites(
      {
        final: {
          audit: {
            update: auditUpdate(tables.operations, 'op_joined'),
            onSeparateFailure: (error: unknown) => failures.push(error),
          },
        },
      },
      async () => {
        await subject.idempotencyClient.send(answerWrite('key-joined'));
      },
    );
    expect(await read(tables.idempotency, { id: { S: 'key-joined' } })).toEqual({
      id: { S: 'key-joined' },
      status: { S: 'COMPLETED' },
    });
    expect(await read(tables.operations, { operationId: { S: 'op_joined' } })).toEqual({
      operationId: { S: 'op_joined' },
      status: { S: 'succeeded' },
    });
    expect(failures).toEqual([]);
  });

  it('joins a release (DeleteItem) too', async () => {
    await dynamoClient(dynamo.endpoint).send(answerWrite('key-released'));
    await subject.withJoinedWrites(
      {
        final: { audit: { update: auditUpdate(tables.operations, 'op_released'), onSeparateFailure: () => undefined } },
      },
      async () => {
        await subject.idempotencyClient.send(
          new DeleteItemCommand({ TableName: tables.idempotency, Key: { id: { S: 'key-released' } } }),
        );
      },
    );
    expect(await read(tables.idempotency, { id: { S: 'key-released' } })).toBeUndefined();
    expect(await read(tables.operations, { operationId: { S: 'op_released' } })).toBeDefined();
  });

  it('reports a failed audit write and still saves the answer', async () => {
    const failures: unknown[] = [];
    await subject.withJoinedWrites(
      {
        final: {
          audit: {
            update: auditUpdate('no-such-table', 'op_lost'),
            onSeparateFailure: (error: unknown) => failures.push(error),
          },
        },
      },
      async () => {
        await subject.idempotencyClient.send(answerWrite('key-audit-lost'));
      },
    );
    expect(await read(tables.idempotency, { id: { S: 'key-audit-lost' } })).toBeDefined();
    expect(failures).toEqual([expect.objectContaining({ name: 'ResourceNotFoundException' })]);
  });

  it('outside an idempotent execution nothing is joined and commands pass through', async () => {
    await subject.idempotencyClient.send(answerWrite('key-alone'));
    expect(await read(tables.idempotency, { id: { S: 'key-alone' } })).toBeDefined();
    expect(await read(tables.operations, { operationId: { S: 'op_alone' } })).toBeUndefined();
  });
});
