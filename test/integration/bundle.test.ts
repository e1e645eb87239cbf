/**
 * The function as `cdk deploy` ships it: built with the construct's bundling options (infra/bundling.ts, including
 * the environment-only credential provider that replaces the SDK's default chain), imported as Lambda would, and
 * invoked with an API Gateway event against DynamoDB Local and the sTN simulator. Proves the bundle, not only the
 * TypeScript sources, signs its DynamoDB calls with the environment's credentials and answers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { esbuildOptions } from '../../infra/bundling.js';
import { functionEntry } from '../../infra/functions.js';
import { cancelActivation } from '../../shared/operations/cancel-activation.js';
import { type StnSimulator, activation } from '../simulators/stn/simulator.js';
import { type Handler, apiGatewayEvent, configureEnvironment, newTable, startStn } from '../support/harness.js';

let simulator: StnSimulator;
let handler: Handler;

/** Builds a fresh copy (its own module instance, so no credentials cached from another test) and imports it. */
const loadBundle = async (): Promise<Handler> => {
  const outfile = join(mkdtempSync(join(tmpdir(), 'bundle-')), 'index.mjs');
  await build({ ...esbuildOptions(functionEntry('cancel-activation'), outfile), logLevel: 'error' });
  return ((await import(pathToFileURL(outfile).href)) as { handler: Handler }).handler;
};

beforeAll(async () => {
  simulator = await startStn({ seed: false, requestsPerSecond: 1000 });
  configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')), AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint') });
  handler = await loadBundle();
});
afterAll(async () => simulator.server.stop());

it('the shipped cancel-activation bundle cancels once and replays, with credentials from the environment', async () => {
  simulator.addActivation(activation('bundledCancel01', 'BUSY'));
  const call = { method: 'POST', path: '/v1/stn/activations/bundledCancel01/cancel', headers: { 'Idempotency-Key': 'bundle-test' } };
  const first = await handler(apiGatewayEvent(cancelActivation as never, call), lambdaContext('cancel-activation', 28_000));
  expect(first.statusCode).toBe(200);
  const replay = await handler(apiGatewayEvent(cancelActivation as never, call), lambdaContext('cancel-activation', 28_000));
  expect(replay.headers?.['Idempotent-Replayed'] ?? replay.headers?.['idempotent-replayed']).toBe('true');
  expect(simulator.cancellations().filter((cancelled) => cancelled.activationId === 'bundledCancel01')).toHaveLength(1);
});

it('without credentials in the environment the bundle fails closed: 503, nothing sent to the provider', async () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  try {
    const uncredentialed = await loadBundle();
    simulator.addActivation(activation('bundledNoCreds1', 'BUSY'));
    const call = { method: 'POST', path: '/v1/stn/activations/bundledNoCreds1/cancel', headers: { 'Idempotency-Key': 'bundle-no-credentials' } };
    const answer = await uncredentialed(apiGatewayEvent(cancelActivation as never, call), lambdaContext('cancel-activation', 28_000));
    expect(answer.statusCode).toBe(503);
    expect(simulator.cancellations().filter((cancelled) => cancelled.activationId === 'bundledNoCreds1')).toHaveLength(0);
  } finally {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: saved.id, AWS_SECRET_ACCESS_KEY: saved.secret });
  }
});
