/**
 * Least privilege, proven both ways. Every function runs in-process through each path that makes AWS calls, with
 * every AWS endpoint pointed at the recorder (testkit/aws-recorder.ts): DynamoDB through to DynamoDB Local,
 * EventBridge, SQS and Secrets Manager answered by it. Then, against the synthesized stack, each recorded call must be
 * allowed by that function's role, and each grant of the role must have been recorded or be exempt below
 * (testkit/least-privilege.ts).
 * The per-function table (recorded calls, granted actions) is written to least-privilege.md in a temporary folder.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { App } from 'aws-cdk-lib';
import { Template as CdkTemplate } from 'aws-cdk-lib/assertions';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { toEventBridgeEvent, toSqsRecord } from '../../infra/local/events.js';
import { rateLimitEnvironment } from '../../infra/constructs/operation-service.js';
import { GatewayStack } from '../../infra/stack.js';
import { type EsimGoSimulator, assignment } from '../../sandbox/esim-go/simulator.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import type { Fault } from '../../sandbox/server.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import { resetConfigCache } from '../../shared/config.js';
import { requestedDetailType } from '../../shared/events.js';
import { type RouteDefinition, routes } from '../../shared/http/routes.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { esimGo } from '../../shared/providers/esim-go/provider.js';
import { monogoto } from '../../shared/providers/monogoto/provider.js';
import { type AnyProvider, type RunningSandbox, variable } from '../../shared/providers/provider.js';
import { stn } from '../../shared/providers/stn/provider.js';
import { type AwsRecorder, startAwsRecorder } from '../../testkit/aws-recorder.js';
import {
  type Answer,
  type Handler,
  apiGatewayEvent,
  configureEnvironment,
  invoke,
  newTable,
  startRunningSandbox,
} from '../../testkit/harness.js';
import { type Exemption, type Verdict, checkLeastPrivilege } from '../../testkit/least-privilege.js';
import { loadDefinition } from '../../testkit/operations.js';
import { type Template, activeTracing, consumedQueues, functionId } from '../../testkit/role-policy.js';

type QueueHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;
type Input = Record<string, string>;

/** How to drive one operation: a fresh target it succeeds on (its input), and its provider's write request. */
interface Driver {
  provider: AnyProvider;
  target: () => Input;
  write: (input: Input) => Pick<Fault, 'method' | 'path' | 'matching'>;
}

/** Grants no in-process test reaches; everything else a role grants must have been recorded. */
const exemptions =
  (template: Template) =>
  (fn: string): Exemption[] => [
    {
      actions: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
      ],
      resources: consumedQueues(template, fn),
      why: "Lambda's SQS poller for the function's event source mappings (its queue and events queue), not its code",
    },
    ...(activeTracing(template, fn)
      ? [
          {
            actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
            resources: ['*'],
            why: "active tracing: Lambda's X-Ray integration sends segments; X-Ray has no resource-level permissions",
          },
        ]
      : []),
  ];
/** CloudWatch Logs (CreateLogGroup, CreateLogStream, PutLogEvents): the runtime writes the function's logs. */
const MANAGED_POLICIES = ['AWSLambdaBasicExecutionRole'];

const ACCOUNT = '123456789012';
/** The function role's unique id, whose sessions send its follow-ups. */
const FOLLOW_UP_ROLE_ID = 'AROALEASTPRIVILEGE01';
/** The batch functions' role id, whose sessions start batch items. */
const BATCH_ROLE_ID = 'AROALEASTPRIVILEGE02';
const queueUrl = (operation: string) => `${recorder.endpoint}/${ACCOUNT}/sim-cancel-gateway-${operation}`;
const secretArn = (provider: AnyProvider) =>
  `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:sim-cancel-gateway-${provider.name}-AbCdEf`;
const camel = (setting: string) => setting.toLowerCase().replace(/_(\w)/g, (_, letter: string) => letter.toUpperCase());

let recorder: AwsRecorder;
let template: Template;
let sandboxes: Record<string, RunningSandbox>;
const environments: Record<string, Record<string, string>> = {};
const handlers: Record<string, Handler & QueueHandler> = {};
const definitions: Record<string, OperationDefinition> = {};
let serial = 0;
const unique = () => `${Date.now().toString(36)}${(serial += 1)}`;

const drivers: Record<string, Driver> = {
  'cancel-esim': {
    provider: monogoto,
    target: () => {
      const iccid = withLuhnCheckDigit(
        `8931${String(Date.now() % 1e9).padStart(9, '0')}${String(++serial).padStart(5, '0')}`,
      );
      const matchingId = `LP-${serial}`;
      (sandboxes.monogoto?.simulator as MonogotoSimulator).addEsim({ iccid, state: 'released', matchingId });
      return { iccid, matchingId };
    },
    write: ({ iccid }) => ({ method: 'POST', path: '/api/v1/eSIM/cancel', matching: iccid }),
  },
  'revoke-bundle': {
    provider: esimGo,
    target: () => ({ iccid: bundleEsim(), name: 'b1' }),
    write: ({ iccid }) => ({ method: 'DELETE', path: `/esims/${iccid}/bundles/b1` }),
  },
  'revoke-assignment': {
    provider: esimGo,
    target: () => ({ iccid: bundleEsim(), name: 'b1', assignmentId: '1' }),
    write: ({ iccid }) => ({ method: 'DELETE', path: `/esims/${iccid}/bundles/b1/assignments/1` }),
  },
  'cancel-activation': {
    provider: stn,
    target: () => {
      const activationId = `lp${unique()}`;
      (sandboxes.stn?.simulator as StnSimulator).addActivation(activation(activationId, 'BUSY'));
      return { activationId };
    },
    write: ({ activationId }) => ({ method: 'POST', path: '/api/CancelNewSubscription', matching: activationId }),
  },
};

/** An installed eSIM Go eSIM with three unused assignments of bundle b1. */
const bundleEsim = () => {
  const iccid = withLuhnCheckDigit(
    `8944${String(Date.now() % 1e8).padStart(8, '0')}${String(++serial).padStart(6, '0')}`,
  );
  (sandboxes['esim-go']?.simulator as EsimGoSimulator).addEsim({
    iccid,
    profileStatus: 'Installed',
    inAccount: true,
    bundles: [
      {
        name: 'b1',
        description: 'least privilege',
        assignments: [assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)],
      },
    ],
  });
  return iccid;
};

/** Runs work as the function would in its own container: its environment, its own Secrets Manager cache. */
const as = <T>(name: string, work: () => Promise<T>): Promise<T> => {
  configureEnvironment(environments[name] ?? {});
  resetConfigCache();
  clearCaches();
  return recorder.during(name, work);
};

const route = (name: string) => routes.find((candidate) => candidate.name === name) as RouteDefinition;
/** A GET of a route that is not an operation (the harness's invoke takes operations), as its function. */
const readRoute = (name: string, path: string, headers: Record<string, string> = {}) =>
  as(name, () =>
    (handlers[name] as Handler)(
      apiGatewayEvent({ route: { method: 'GET', path: route(name).path } } as never, { method: 'GET', path, headers }),
      lambdaContext(name, 28_000),
    ),
  );

/** The HTTP request for an input: path parameters into the path, the rest (if any) as the JSON body. */
const httpCall = (name: string, input: Input, headers: Record<string, string>, query = '') => {
  const { method, path } = route(name);
  const inPath = new Set([...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]));
  const body = Object.fromEntries(Object.entries(input).filter(([field]) => !inPath.has(field)));
  return {
    method,
    path: `${path.replace(/\{(\w+)\}/g, (_, field: string) => input[field] ?? '')}${query}`,
    headers,
    body: Object.keys(body).length === 0 ? undefined : body,
  };
};

/** Each path of an operation that makes AWS calls, with the answers that show it took that path. */
const driveOperation = async (name: string): Promise<Answer> => {
  const driver = drivers[name] as Driver;
  const server = (sandboxes[driver.provider.name] as RunningSandbox).server;
  const handler = handlers[name] as Handler & QueueHandler;
  const http = (input: Input, headers: Record<string, string> = {}, query = '') =>
    as(name, () => invoke(handler, definitions[name] as OperationDefinition, httpCall(name, input, headers, query)));
  const consume = (body: unknown, via: 'queue' | 'bus' = 'queue') =>
    as(name, () =>
      handler({ Records: [toSqsRecord(JSON.stringify(body), name, { via })] }, lambdaContext(name, 28_000)),
    );
  const newKey = () => ({ 'Idempotency-Key': `lp-${unique()}` });

  const target = driver.target();
  const key = newKey();
  const succeeded = await http(target, key);
  expect(succeeded.status, name).toBe(200);
  expect((await http(target, key)).headers['idempotent-replayed'], `${name} replay`).toBe('true');
  expect((await http(driver.target(), key)).status, `${name} key reused`).toBe(422);
  expect((await http(driver.target(), {}, '?dryRun=true')).body.status, `${name} dry run`).toBe('validated');

  // Throttled: nothing was done and Powertools deletes the key's record, so the retry with the key runs.
  const throttled = driver.target();
  const throttledKey = newKey();
  server.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1, ...driver.write(throttled) });
  const throttledAnswer = await http(throttled, throttledKey);
  expect(throttledAnswer.status, `${name} throttled`).toBe(503);
  // As a client honouring Retry-After: the limiter holds every start until the provider's window resets.
  await new Promise((resolve) => setTimeout(resolve, Number(throttledAnswer.headers['retry-after'] ?? 1) * 1000));
  expect((await http(throttled, throttledKey)).status, `${name} after throttling`).toBe(200);

  // A lost answer: applied, then a 500; the retry reconciles with the provider instead of sending again.
  const lost = driver.target();
  const lostKey = newKey();
  server.injectFault({ kind: 'apply-then-status', status: 500, ...driver.write(lost) });
  expect((await http(lost, lostKey)).status, `${name} lost answer`).toBe(502);
  expect((await http(lost, lostKey)).body.reconciled, `${name} reconciled`).toBe(true);

  const done = { batchItemFailures: [] };
  expect(await consume({ idempotencyKey: `lp-${unique()}`, input: driver.target() }), `${name} SQS`).toEqual(done);
  // Invalid input can never succeed: dead-lettered (SQS SendMessage), not retried.
  expect(await consume({ idempotencyKey: `lp-${unique()}`, input: {} }), `${name} dead letter`).toEqual(done);
  const event = toEventBridgeEvent({
    Source: 'shop.orders',
    DetailType: requestedDetailType((definitions[name] as OperationDefinition).eventName),
    Detail: JSON.stringify({ input: driver.target() }),
  });
  expect(await consume(event, 'bus'), `${name} bus event`).toEqual(done);
  // A follow-up of the first success (sTN CANCELLING, an eSIM Go refund), from the function's own role: it reads the
  // record, takes the target lease, checks the provider, appends the check and sends the next one.
  const [followUp] = (definitions[name] as OperationDefinition).followUps ?? [];
  if (followUp !== undefined) {
    const message = {
      followUp,
      operation: name,
      operationId: String(succeeded.body.operationId),
      check: 1,
      dueAt: new Date().toISOString(),
      deadlineAt: new Date(Date.now() + 60_000).toISOString(),
    };
    const senderId = `${FOLLOW_UP_ROLE_ID}:${name}`;
    expect(
      await as(name, () =>
        handler({ Records: [toSqsRecord(JSON.stringify(message), name, { senderId })] }, lambdaContext(name, 28_000)),
      ),
      `${name} follow-up`,
    ).toEqual(done);
  }
  return succeeded;
};

/** The history routes, through each index they query and (the timeline) eSIM Go's history read with its secret. */
const driveHistory = async (revokeTarget: string) => {
  const iccid = /^iccid:(\d+)/.exec(revokeTarget)?.[1] as string;
  const ok = async (name: string, path: string, headers?: Record<string, string>) => {
    const answer = await readRoute(name, path, headers);
    expect(answer.statusCode, `${name} ${path}`).toBe(200);
    return answer;
  };
  const first = JSON.parse((await ok('list-operations', '/v1/operations?limit=2')).body) as { nextCursor: string };
  await ok('list-operations', `/v1/operations?limit=2&cursor=${first.nextCursor}`);
  await ok('list-operations', `/v1/operations?iccid=${iccid}&status=succeeded`);
  await ok('refund-report', '/v1/reports/refunds');
  await ok('refund-report', '/v1/reports/refunds', { accept: 'text/csv' });
  const timeline = JSON.parse((await ok('esim-timeline', `/v1/esims/${iccid}/timeline`)).body) as {
    sources: { esimGo: string };
  };
  expect(timeline.sources.esimGo).toBe('included');
};

/** Any route as its function, with a method, a body and headers. */
const callRoute = (name: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  as(name, async () => {
    const result = await (handlers[name] as Handler)(
      apiGatewayEvent({ route: { method: route(name).method, path: route(name).path } } as never, {
        method: route(name).method,
        path,
        headers,
        body,
      }),
      lambdaContext(name, 28_000),
    );
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
  });

/**
 * The batch items sent to an operation's queue since `from`, delivered to it as from the batch functions' role, and
 * those it puts back on its own queue for later, as they come.
 */
const deliverBatchItems = async (name: string, from: number) => {
  const handler = handlers[name] as Handler & QueueHandler;
  for (let next = from; next < recorder.sent.length; next += 1) {
    const { queueUrl: url, body } = recorder.sent[next] as { queueUrl: string; body: string };
    // A watch of an in_progress item comes back while it is open: delivered once here would be delivered for ever.
    if (url !== queueUrl(name) || !body.includes('"batchItem"') || body.includes('"phase":"watch"')) continue;
    const record = toSqsRecord(body, name, { senderId: `${BATCH_ROLE_ID}:create-batch` });
    expect(
      await as(name, () => handler({ Records: [record] }, lambdaContext(name, 28_000))),
      `${name} batch item`,
    ).toEqual({ batchItemFailures: [] });
  }
};

/** A one-item batch of the operation: created, previewed, read, confirmed, run, reported; and one cancelled. */
const driveBatch = async (name: string) => {
  const driver = drivers[name] as Driver;
  const item = driver.target();
  let from = recorder.sent.length;
  const created = await callRoute(
    'create-batch',
    '/v1/batches',
    { operation: name, items: [item] },
    { 'Idempotency-Key': `lp-batch-${unique()}` },
  );
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const batchId = String(created.body.batchId);
  await deliverBatchItems(name, from);
  expect((await callRoute('get-batch', `/v1/batches/${batchId}`)).body.status).toBe('previewed');
  from = recorder.sent.length;
  // The provider throttles the item's write once: the operation puts the item back on its own queue for later.
  const server = (sandboxes[driver.provider.name] as RunningSandbox).server;
  server.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1, ...driver.write(item) });
  expect((await callRoute('confirm-batch', `/v1/batches/${batchId}/confirm`)).status).toBe(202);
  await deliverBatchItems(name, from);
  // Every item answered: the batch is completed, or (sTN CANCELLING) running until its follow-ups settle the item.
  const ran = (await callRoute('get-batch', `/v1/batches/${batchId}`)).body as {
    status: string;
    counts: Record<string, number>;
  };
  expect(ran.counts.pending, `${name} batch`).toBe(0);
  expect(ran.status, `${name} batch`).toBe(ran.counts.in_progress === 0 ? 'completed' : 'running');
  expect((await callRoute('batch-items', `/v1/batches/${batchId}/items`)).status).toBe(200);
  const other = await callRoute(
    'create-batch',
    '/v1/batches',
    { operation: name, items: [driver.target()] },
    { 'Idempotency-Key': `lp-batch-${unique()}` },
  );
  expect((await callRoute('cancel-batch', `/v1/batches/${String(other.body.batchId)}/cancel`)).status).toBe(200);
};

/** The provider's limit counted for the fleet in DynamoDB, as the stack sets it, at a rate the tests never wait for. */
const fleetRateLimit = (provider: AnyProvider): Record<string, string> => {
  const deployed = rateLimitEnvironment(provider);
  return Object.keys(deployed).length === 0
    ? deployed
    : { ...deployed, [variable(provider, 'REQUESTS_PER_SECOND')]: '10000' };
};

const verdicts = new Map<string, Verdict>();
const verdictOf = (name: string): Verdict => {
  let verdict = verdicts.get(name);
  if (verdict === undefined) {
    verdict = checkLeastPrivilege(template, {
      description: route(name).summary,
      environment: environments[name] ?? {},
      calls: recorder.callsOf(name),
      exemptions: exemptions(template),
      managedPolicies: MANAGED_POLICIES,
    });
    verdicts.set(name, verdict);
  }
  return verdict;
};

beforeAll(async () => {
  const dynamoEndpoint = inject('dynamoEndpoint');
  const started = await Promise.all([
    startRunningSandbox(monogoto, { seed: false }),
    startRunningSandbox(esimGo, { seed: false, requestsPerSecond: 10_000 }),
    startRunningSandbox(stn, { seed: false, requestsPerSecond: 10_000 }),
  ]);
  const providers = [monogoto, esimGo, stn];
  sandboxes = Object.fromEntries(providers.map((provider, index) => [provider.name, started[index] as RunningSandbox]));
  // Credentials come only from Secrets Manager (the recorder), as in Lambda: the sandbox's plain settings are removed.
  const secrets: Record<string, string> = {};
  for (const provider of providers) {
    const settings = sandboxes[provider.name]?.settings ?? {};
    const value = Object.fromEntries(provider.secret.plainSettings.map((name) => [camel(name), settings[name]]));
    provider.secret.schema.parse(value);
    secrets[secretArn(provider)] = JSON.stringify(value);
    for (const name of provider.secret.plainSettings) delete process.env[variable(provider, name)];
  }
  recorder = await startAwsRecorder({ dynamoEndpoint, secrets });

  const tables = {
    IDEMPOTENCY_TABLE_NAME: await newTable(dynamoEndpoint),
    OPERATIONS_TABLE_NAME: process.env.OPERATIONS_TABLE_NAME as string,
    BATCHES_TABLE_NAME: process.env.BATCHES_TABLE_NAME as string,
  };
  configureEnvironment({
    ...tables,
    AWS_ENDPOINT_URL_DYNAMODB: recorder.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: recorder.endpoint,
    AWS_ENDPOINT_URL_SQS: recorder.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: recorder.endpoint,
    EVENT_BUS_NAME: 'sim-cancel-gateway',
    UPSTREAM_TIMEOUT_MS: '1000',
    RECONCILE_AFTER_MS: '300',
    ESIM_GO_REQUESTS_PER_SECOND: '10000',
  });
  for (const { name, operation, providerReads = [] } of routes) {
    const provider = operation === undefined ? undefined : drivers[name]?.provider;
    // A route that reads a provider (the eSIM timeline) has that provider's secret, as the stack gives it.
    const reads = providers.filter((candidate) => providerReads.includes(candidate.name));
    environments[name] =
      provider === undefined
        ? {
            ...tables,
            ...Object.fromEntries(reads.map((read) => [variable(read, 'SECRET_ARN'), secretArn(read)])),
            ...Object.fromEntries(reads.flatMap((read) => Object.entries(fleetRateLimit(read)))),
            ...(routes.find((route) => route.name === name)?.grants?.includes('start-batch-items') === true
              ? {
                  BATCH_QUEUE_URLS: JSON.stringify(
                    Object.fromEntries(Object.keys(drivers).map((op) => [op, queueUrl(op)])),
                  ),
                }
              : {}),
          }
        : {
            ...tables,
            EVENT_BUS_NAME: 'sim-cancel-gateway',
            // Each function has its own dead-letter queue; on the recorder's host, where the SDK sends (QueueUrl).
            DEAD_LETTER_QUEUE_URL: `${recorder.endpoint}/${ACCOUNT}/sim-cancel-gateway-${name}-dead-letters`,
            [variable(provider, 'SECRET_ARN')]: secretArn(provider),
            ...fleetRateLimit(provider),
            // The batch functions' role, and the function's own (it puts items back on its queue for later).
            BATCH_SENDER_IDS: `${BATCH_ROLE_ID},${FOLLOW_UP_ROLE_ID}`,
            BATCH_RETRY_QUEUE_URL: `${recorder.endpoint}/${ACCOUNT}/sim-cancel-gateway-${name}`,
            ...((operation?.followUps ?? []).length === 0
              ? {}
              : {
                  FOLLOW_UP_QUEUE_URL: `${recorder.endpoint}/${ACCOUNT}/sim-cancel-gateway-${name}`,
                  FOLLOW_UP_SENDER_ID: FOLLOW_UP_ROLE_ID,
                }),
          };
    configureEnvironment(environments[name]);
    handlers[name] = (
      (await import(`../../functions/${name}/index.ts`)) as { handler: Handler & QueueHandler }
    ).handler;
    if (operation !== undefined) definitions[name] = await loadDefinition(operation);
  }

  const answers: Record<string, Answer> = {};
  for (const name of Object.keys(drivers)) answers[name] = await driveOperation(name);
  const read = await readRoute('get-operation', `/v1/operations/${String(answers['cancel-esim']?.body.operationId)}`);
  expect(read.statusCode).toBe(200);
  await driveHistory(String(answers['revoke-bundle']?.body.target));
  for (const name of Object.keys(drivers)) await driveBatch(name);
  expect((await readRoute('openapi', '/v1/openapi.json')).statusCode).toBe(200);

  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = CdkTemplate.fromStack(new GatewayStack(app, 'Test', { routes })).toJSON() as Template;
}, 60_000);

afterAll(async () => {
  writeSummary();
  await Promise.all([recorder?.stop(), ...Object.values(sandboxes ?? {}).map((sandbox) => sandbox.stop())]);
});

/** The table for the issue and docs/least-privilege.md: per function, what it called and what its role grants. */
const writeSummary = () => {
  if (template === undefined) return;
  const rows = routes.map(({ name }) => {
    const { recorded, granted } = verdictOf(name);
    return `| ${name} | ${recorded.join('<br>') || '(none)'} | ${granted.join('<br>')} |`;
  });
  const operation = functionId(template, route('cancel-esim').summary);
  const reasons = [
    ...exemptions(template)(operation).map((exemption) => `- exempt ${exemption.actions.join(', ')}: ${exemption.why}`),
    `- exempt managed ${MANAGED_POLICIES.join(', ')}: CloudWatch Logs, the function's own logs`,
  ];
  const table = ['| function | recorded AWS calls | role grants |', '|---|---|---|', ...rows, '', ...reasons].join(
    '\n',
  );
  const file = join(mkdtempSync(join(tmpdir(), 'least-privilege-')), 'least-privilege.md');
  writeFileSync(file, `${table}\n`);
  console.log(`least privilege, per function (also in ${file}):\n${table}`);
};

describe('least privilege', () => {
  it('attributes every AWS call to the function that made it', () => {
    expect(recorder.unattributed).toEqual([]);
    for (const name of Object.keys(drivers))
      expect(recorder.callsOf(name).map((call) => `${call.service}:${call.action}`)).toEqual(
        expect.arrayContaining([
          'secretsmanager:GetSecretValue',
          'dynamodb:PutItem',
          'events:PutEvents',
          'sqs:SendMessage',
        ]),
      );
  });

  it('reads the audit trail by its indexes only: the history functions call Query, and nothing calls Scan', () => {
    const operationsTable = process.env.OPERATIONS_TABLE_NAME as string;
    for (const name of ['list-operations', 'esim-timeline', 'refund-report'])
      expect(
        new Set(
          recorder
            .callsOf(name)
            .flatMap((call) =>
              call.service === 'dynamodb' && call.resource.startsWith(operationsTable) ? [call.action] : [],
            ),
        ),
        name,
      ).toEqual(new Set(['Query']));
    // The timeline's one other DynamoDB call: eSIM Go's rate-limit windows, shared with the operations.
    expect(
      new Set(
        recorder
          .callsOf('esim-timeline')
          .flatMap((call) =>
            call.service === 'dynamodb' && !call.resource.startsWith(operationsTable) ? [call.action] : [],
          ),
      ),
    ).toEqual(new Set(['UpdateItem']));
    for (const { name } of routes)
      expect(
        recorder.callsOf(name).filter((call) => call.action === 'Scan'),
        name,
      ).toEqual([]);
  });

  it.each(routes.map(({ name }) => name))('%s: its role allows every call it made', (name) => {
    expect(verdictOf(name).notAllowed).toEqual([]);
  });

  it.each(routes.map(({ name }) => name))(
    '%s: its role grants nothing it never used, but for the exemptions',
    (name) => {
      expect(verdictOf(name).unused).toEqual([]);
    },
  );

  it('fails a role that grants more (Scan) or less (no GetSecretValue) than the calls need', () => {
    const name = 'cancel-esim';
    const changed = (edit: (statements: Array<Record<string, unknown>>) => void) => {
      const copy = structuredClone(template);
      const fn = Object.values(copy.Resources).find(
        (resource) =>
          resource.Type === 'AWS::Lambda::Function' && resource.Properties?.Description === route(name).summary,
      );
      const role = (fn?.Properties?.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      const policy = Object.values(copy.Resources).find(
        (resource) =>
          resource.Type === 'AWS::IAM::Policy' &&
          (resource.Properties?.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === role),
      );
      edit((policy?.Properties?.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
      return checkLeastPrivilege(copy, {
        description: route(name).summary,
        environment: environments[name] ?? {},
        calls: recorder.callsOf(name),
        exemptions: exemptions(copy),
        managedPolicies: MANAGED_POLICIES,
      });
    };
    const table = Object.keys(template.Resources).find((id) => id.startsWith('IdempotencyTable'));
    const broader = changed((statements) =>
      statements.push({ Effect: 'Allow', Action: 'dynamodb:Scan', Resource: { 'Fn::GetAtt': [table, 'Arn'] } }),
    );
    expect(broader.unused).toEqual([`dynamodb:Scan on ${table}`]);
    expect(broader.notAllowed).toEqual([]);
    const narrower = changed((statements) => {
      const index = statements.findIndex((statement) =>
        [statement.Action].flat().includes('secretsmanager:GetSecretValue'),
      );
      statements.splice(index, 1);
    });
    expect(narrower.notAllowed).toEqual([
      expect.stringMatching(/^secretsmanager:GetSecretValue on MONOGOTO_SECRET_ARN/),
    ]);
  });
});
