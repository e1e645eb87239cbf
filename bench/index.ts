/**
 * `npm run bench`: the performance figures of docs/benchmarks.md, each against its baseline in the same run.
 * Not part of `npm test`: machines here are shared and noisy, so figures are ratios and medians, not pass/fail
 * timings. Starts its own DynamoDB Local and simulators.
 */
import { writeFileSync } from 'node:fs';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.js';

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  BATCH_CONCURRENCY: '10',
});

const dynamo = await startDynamoDbLocal();
const sections: string[] = [];
try {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const harness = await import('../test/support/harness.js');
  harness.configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await harness.newTable(dynamo.endpoint) });
  const [stn, esimGo] = await Promise.all([harness.startStn({ seed: false, requestsPerSecond: 100_000 }), harness.startEsimGo({ requestsPerSecond: 100_000 })]);
  const { measureEvents } = await import('./events.js');
  const { countDynamoDBCalls } = await import('./dynamodb-calls.js');
  const { lambdaContext } = await import('../infra/local/apigw-event.js');
  const stnHandler = (await import('../functions/cancel-activation/index.js')).handler as never;
  const { cancelActivation } = await import('../shared/operations/cancel-activation.js');
  const { activation } = await import('../test/simulators/stn/simulator.js');

  // DynamoDB calls per request, on DynamoDB Local.
  const id = 'benchDynamoCalls01';
  stn.addActivation(activation(id, 'BUSY'));
  const call = (headers: Record<string, string>, query = '') => () =>
    harness.invoke(stnHandler, cancelActivation as never, { method: 'POST', path: `/v1/stn/activations/${id}/cancel${query}`, headers });
  const newKey = await countDynamoDBCalls(call({ 'Idempotency-Key': 'bench-calls' }));
  const replay = await countDynamoDBCalls(call({ 'Idempotency-Key': 'bench-calls' }));
  stn.server.latencyMs = 300;
  const other = harness.invoke(stnHandler, cancelActivation as never, { method: 'POST', path: '/v1/stn/activations/benchConflict/cancel', headers: { 'Idempotency-Key': 'bench-conflict' } });
  stn.addActivation(activation('benchConflict', 'BUSY'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const conflict = await countDynamoDBCalls(() => harness.invoke(stnHandler, cancelActivation as never, { method: 'POST', path: '/v1/stn/activations/benchConflict/cancel', headers: { 'Idempotency-Key': 'bench-conflict' } }));
  await other;
  stn.server.latencyMs = 0;
  const dryRun = await countDynamoDBCalls(call({}, '?dryRun=true'));
  sections.push(
    '## DynamoDB calls per request (DynamoDB Local, sTN cancel)',
    '',
    '| request | calls | writes | commands |',
    '|---|---|---|---|',
    ...[['new key', newKey], ['replay', replay], ['conflict (same key in flight)', conflict], ['dry run', dryRun]].map(
      ([label, figures]) => `| ${label as string} | ${(figures as typeof newKey).total} | ${(figures as typeof newKey).writes} | ${(figures as typeof newKey).commands.join(', ')} |`,
    ),
    '',
  );

  // Event path.
  const events = await measureEvents(stn, stnHandler);
  sections.push(
    '## Event path: a 10-record SQS batch at 200 ms provider latency',
    '',
    '| measure | median (ms) |',
    '|---|---|',
    `| 1 record | ${events.singleMs.toFixed(0)} |`,
    `| 10 records in one batch | ${events.batchMs.toFixed(0)} |`,
    `| 10 records one batch at a time | ${events.sequentialMs.toFixed(0)} |`,
    '',
    `10-record batch / 1 record: **${events.batchVsSingle.toFixed(2)}x** (target at most 1.5x); 10-record batch / sequential: ${events.batchVsSequential.toFixed(2)}x. Medians of ${events.runs} runs; BATCH_CONCURRENCY=10.`,
    '',
  );
  void lambdaContext;
  await Promise.all([stn.server.stop(), esimGo.server.stop()]);
} finally {
  dynamo.stop();
}

const markdown = ['# Benchmarks', '', `Measured with \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (2 cores, Node ${process.version}). Ratios are taken side by side in one run.`, '', ...sections].join('\n');
writeFileSync('docs/benchmarks.md', markdown);
process.stdout.write(`${markdown}\n`);
