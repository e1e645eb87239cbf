/**
 * Powertools' client on DynamoDB Local, where transactions exist: the answer and the audit entry go in one
 * TransactWriteItems; when DynamoDB refuses the transaction because of the audit entry, the answer is still saved and
 * the audit failure only reported; the entry's guard keeps a repeated attempt from being recorded twice; and an entry
 * no final write carried is written at the end of the execution. No fault injection: DynamoDB Local refuses for real.
 */
import { DeleteItemCommand, GetItemCommand, type Update, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type * as Audit from '../../shared/audit.js';
import type * as IdempotencyClient from '../../shared/idempotency-client.js';
import { countDynamoDBCalls } from '../../testkit/dynamodb-calls.js';
import { configureEnvironment, newTable } from '../../testkit/harness.js';

let subject: typeof IdempotencyClient;
let audit: typeof Audit;
let idempotencyTable: string;

const answerWrite = (id: string, extra: Record<string, unknown> = {}) =>
  new UpdateItemCommand({
    TableName: idempotencyTable,
    Key: { id: { S: id } },
    UpdateExpression: 'SET #status = :status',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': { S: 'COMPLETED' } },
    ...extra,
  });
const entry = (operationId: string, attempt = 1): Update =>
  audit.attemptUpdate(
    {
      operationId,
      operation: 'cancel-activation',
      provider: 'stn',
      target: 'x',
      caller: 'arn:aws:iam::123456789012:user/test',
      source: 'http',
      idempotencyKeyHash: 'abc',
      input: { activationId: 'x' },
      status: 'succeeded',
      httpStatus: 200,
    },
    {
      attempt,
      at: new Date().toISOString(),
      status: 'succeeded',
      httpStatus: 200,
      upstreamStatus: 200,
      message: null,
      reconciled: false,
    },
  );
const read = async (table: string, key: Record<string, { S: string }>) => {
  const { dynamoDBClient } = await import('../../shared/dynamodb.js');
  const item = (await dynamoDBClient.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true })))
    .Item;
  return item === undefined ? undefined : unmarshall(item);
};
const runJoined = async (update: Update, write: () => Promise<unknown>) => {
  const failures: unknown[] = [];
  const calls = await countDynamoDBCalls(() =>
    subject.withJoinedWrites(
      { final: { audit: { update: update, onSeparateFailure: (error: unknown) => failures.push(error) } } },
      async () => {
        await write();
      },
    ),
  );
  return { failures, calls };
};

beforeAll(async () => {
  idempotencyTable = await newTable(inject('dynamoEndpoint'));
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: idempotencyTable,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
  });
  subject = await import('../../shared/idempotency-client.js');
  audit = await import('../../shared/audit.js');
});

describe('the idempotency client with transactions', () => {
  it('writes the answer and the audit entry in one transaction', async () => {
    const { failures, calls } = await runJoined(entry('op_together'), () =>
      subject.idempotencyClient.send(answerWrite('key-together')),
    );
    expect(calls.commands).toEqual(['TransactWriteItemsCommand']);
    expect(await read(idempotencyTable, { id: { S: 'key-together' } })).toEqual({
      id: 'key-together',
      status: 'COMPLETED',
    });
    expect(
      await read(process.env.OPERATIONS_TABLE_NAME as string, { operationId: { S: 'op_together' } }),
    ).toMatchObject({ lastAttempt: 1, attempts: [expect.objectContaining({ attempt: 1 })] });
    expect(failures).toEqual([]);
  });

  it('saves the answer when DynamoDB refuses the transaction because of the audit entry, and reports the entry', async () => {
    const lost = { ...entry('op_lost'), TableName: 'no-such-operations-table' };
    const { failures, calls } = await runJoined(lost, () =>
      subject.idempotencyClient.send(answerWrite('key-audit-refused')),
    );
    expect(calls.commands).toEqual(['TransactWriteItemsCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    expect(await read(idempotencyTable, { id: { S: 'key-audit-refused' } })).toEqual({
      id: 'key-audit-refused',
      status: 'COMPLETED',
    });
    expect(failures).toEqual([expect.objectContaining({ name: 'ResourceNotFoundException' })]);
  });

  it("fails when the answer's own write fails, after recording the audit entry", async () => {
    const write = () =>
      subject.idempotencyClient.send(
        new DeleteItemCommand({ TableName: 'no-such-idempotency-table', Key: { id: { S: 'key' } } }),
      );
    await expect(runJoined(entry('op_answer_failed'), write)).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(
      await read(process.env.OPERATIONS_TABLE_NAME as string, { operationId: { S: 'op_answer_failed' } }),
    ).toBeDefined();
  });

  it('records an attempt once even when its entry is written again (a repeat after a lost answer)', async () => {
    await runJoined(entry('op_repeated'), () => subject.idempotencyClient.send(answerWrite('key-repeated-1')));
    const { failures } = await runJoined(entry('op_repeated'), () =>
      subject.idempotencyClient.send(answerWrite('key-repeated-2')),
    );
    expect(failures).toEqual([]);
    expect(
      (await read(process.env.OPERATIONS_TABLE_NAME as string, { operationId: { S: 'op_repeated' } }))?.attempts,
    ).toHaveLength(1);
    expect(await read(idempotencyTable, { id: { S: 'key-repeated-2' } })).toBeDefined();
    await runJoined(entry('op_repeated', 2), () => subject.idempotencyClient.send(answerWrite('key-repeated-3')));
    expect(
      (await read(process.env.OPERATIONS_TABLE_NAME as string, { operationId: { S: 'op_repeated' } }))?.attempts,
    ).toHaveLength(2);
  });

  it('does not join a command carrying fields it was not written for: the two go apart', async () => {
    const { calls } = await runJoined(entry('op_apart'), () =>
      subject.idempotencyClient.send(answerWrite('key-apart', { ReturnValues: 'ALL_NEW' })),
    );
    expect([...calls.commands].sort()).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    expect(await read(process.env.OPERATIONS_TABLE_NAME as string, { operationId: { S: 'op_apart' } })).toBeDefined();
  });

  it('writes an entry no final write carried when the execution ends', async () => {
    const { calls } = await runJoined(entry('op_left_over'), async () => undefined);
    expect(calls.commands).toEqual(['UpdateItemCommand']);
    expect(
      await read(process.env.OPERATIONS_TABLE_NAME as string, { operationId: { S: 'op_left_over' } }),
    ).toBeDefined();
  });
});
