/**
 * Event path figures: a 10-record SQS batch against one record and against the same 10 records one batch at a
 * time, with the provider simulator answering after 200 ms; medians of several runs, measured side by side.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dynamoDBClient } from '../shared/dynamodb.js';
import { lambdaContext } from '../infra/local/apigw-event.js';
import { toSqsRecord } from '../infra/local/events.js';
import { activation } from '../sandbox/stn/simulator.js';
import type { startStn } from '../testkit/harness.js';
import { median } from './stats.js';

type QueueHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

export const measureEvents = async (stn: Awaited<ReturnType<typeof startStn>>, handler: QueueHandler, runs = 5) => {
  stn.server.latencyMs = 200;
  let serial = 0;
  const records = (count: number) =>
    Array.from({ length: count }, () => {
      const id = `bench${(serial += 1)}${Math.random().toString(36).slice(2, 8)}`;
      stn.addActivation(activation(id, 'BUSY'));
      return toSqsRecord(
        JSON.stringify({ idempotencyKey: `bench-${id}`, input: { activationId: id } }),
        'cancel-activation',
      );
    });
  const time = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  const single: number[] = [];
  const batch: number[] = [];
  const sequential: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    single.push(await time(() => handler({ Records: records(1) }, lambdaContext('cancel-activation', 28_000))));
    batch.push(await time(() => handler({ Records: records(10) }, lambdaContext('cancel-activation', 28_000))));
    sequential.push(
      await time(async () => {
        for (const record of records(10))
          await handler({ Records: [record] }, lambdaContext('cancel-activation', 28_000));
      }),
    );
  }
  stn.server.latencyMs = 0;
  // What the store itself does with the batch's concurrency: the 30 writes of a 10-record batch (3 per record) sent at
  // once, against one write, on the same DynamoDB Local and client.
  const write = (index: number) =>
    dynamoDBClient.send(
      new PutItemCommand({
        TableName: process.env.IDEMPOTENCY_TABLE_NAME,
        Item: { id: { S: `bench-store-${serial}-${index}` }, payload: { S: 'x'.repeat(512) } },
      }),
    );
  const oneWrite: number[] = [];
  const thirtyWrites: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    serial += 1;
    oneWrite.push(await time(() => write(0)));
    thirtyWrites.push(await time(() => Promise.all(Array.from({ length: 30 }, (_, index) => write(index + 1)))));
  }
  const [one, ten, oneByOne] = [median(single), median(batch), median(sequential)];
  return {
    providerLatencyMs: 200,
    runs,
    singleMs: one,
    batchMs: ten,
    sequentialMs: oneByOne,
    batchVsSingle: ten / one,
    batchVsSequential: ten / oneByOne,
    store: { oneWriteMs: median(oneWrite), thirtyWritesMs: median(thirtyWrites) },
  };
};
