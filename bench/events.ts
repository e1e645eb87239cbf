/**
 * Event path figures: a 10-record SQS batch against one record and against the same 10 records one batch at a
 * time, with the provider simulator answering after 200 ms; medians of several runs, measured side by side.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaContext } from '../infra/local/apigw-event.js';
import { toSqsRecord } from '../infra/local/events.js';
import { activation } from '../test/simulators/stn/simulator.js';
import type { startStn } from '../test/support/harness.js';
import { median } from './stats.js';

type QueueHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

export const measureEvents = async (stn: Awaited<ReturnType<typeof startStn>>, handler: QueueHandler, runs = 5) => {
  stn.server.latencyMs = 200;
  let serial = 0;
  const records = (count: number) =>
    Array.from({ length: count }, () => {
      const id = `bench${(serial += 1)}${Math.random().toString(36).slice(2, 8)}`;
      stn.addActivation(activation(id, 'BUSY'));
      return toSqsRecord(JSON.stringify({ idempotencyKey: `bench-${id}`, input: { activationId: id } }), 'cancel-activation');
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
        for (const record of records(10)) await handler({ Records: [record] }, lambdaContext('cancel-activation', 28_000));
      }),
    );
  }
  stn.server.latencyMs = 0;
  const [one, ten, oneByOne] = [median(single), median(batch), median(sequential)];
  return { providerLatencyMs: 200, runs, singleMs: one, batchMs: ten, sequentialMs: oneByOne, batchVsSingle: ten / one, batchVsSequential: ten / oneByOne };
};
