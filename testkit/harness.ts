/**
 * Integration harness: a fresh idempotency table on DynamoDB Local, a Monogoto simulator over real HTTP,
 * and the real handler module, imported after the environment is set exactly as in Lambda. Events are made
 * by the local runner's API Gateway translation, which test/unit/apigw-event.test.ts checks against a
 * recorded API Gateway REST proxy event.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { LOCAL_CALLER_ARN, lambdaContext, matchResource, toApiGatewayEvent } from '../infra/local/apigw-event.js';
import { createApiGateway } from '../infra/local/api-gateway.js';
import { dynamoClient, ensureTables } from '../infra/local/dynamodb.js';
import { operationRoute, routes } from '../shared/http/routes.js';
import type { OperationContract, OperationDefinition } from '../shared/operations/definition.js';
import { assertMatchesContract } from './contract.js';
import type { EsimGoSimulatorOptions } from '../sandbox/esim-go/simulator.js';
import type { MonogotoSimulatorOptions } from '../sandbox/monogoto/simulator.js';
import type { StnSimulatorOptions } from '../sandbox/stn/simulator.js';
import { esimGo } from '../shared/providers/esim-go/provider.js';
import { monogoto } from '../shared/providers/monogoto/provider.js';
import {
  type ProviderDescriptor,
  type RunningSandbox,
  type SandboxModule,
  type SandboxOptions,
  type SettingsShape,
  variable,
} from '../shared/providers/provider.js';
import { stn } from '../shared/providers/stn/provider.js';

export type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface HttpCall {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  caller?: string;
  /** The invocation's time budget (Lambda context), which bounds Powertools' in-progress lock. */
  timeoutMs?: number;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Fresh idempotency and operations tables; sets OPERATIONS_TABLE_NAME and returns the idempotency table's name. */
export const newTable = async (endpoint: string): Promise<string> => {
  const suffix = randomUUID();
  const names = {
    idempotency: `idempotency-${suffix}`,
    operations: `operations-${suffix}`,
    batches: `batches-${suffix}`,
  };
  const client = dynamoClient(endpoint);
  await ensureTables(client, names);
  client.destroy();
  configureEnvironment({ OPERATIONS_TABLE_NAME: names.operations, BATCHES_TABLE_NAME: names.batches });
  return names.idempotency;
};

/**
 * Forgets every target lease in the idempotency table: for tests that reset a simulator to its sandbox records, whose
 * world then no longer holds what the gateway remembers about its targets (an unresolved attempt keeps a target busy).
 */
export const forgetTargets = async (): Promise<void> => {
  const { documentClient } = await import('../shared/dynamodb.js');
  const { ScanCommand, DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
  const table = process.env.IDEMPOTENCY_TABLE_NAME;
  const { Items = [] } = await documentClient.send(
    new ScanCommand({
      TableName: table,
      FilterExpression: 'begins_with(id, :prefix)',
      ExpressionAttributeValues: { ':prefix': 'target#' },
    }),
  );
  await Promise.all(
    Items.map((item) => documentClient.send(new DeleteCommand({ TableName: table, Key: { id: item.id } }))),
  );
};

/** Prepares the process environment as the deployed function has it. Call before importing a handler. */
export const configureEnvironment = (values: Record<string, string>): void => {
  Object.assign(process.env, values);
};

/**
 * Starts a provider's sandbox and points the handlers at it, as `npm start` does: the settings come from the sandbox,
 * the variable names from the descriptor.
 */
export const startSandbox = async <Simulator, Options extends SandboxOptions>(
  provider: ProviderDescriptor<SettingsShape, unknown, unknown, SandboxModule<Simulator, Options>>,
  options?: Options,
): Promise<Simulator> => (await startRunningSandbox(provider, options)).simulator;

/** Like startSandbox, with the whole running sandbox (its server, to count calls or inject faults). */
export const startRunningSandbox = async <Simulator, Options extends SandboxOptions>(
  provider: ProviderDescriptor<SettingsShape, unknown, unknown, SandboxModule<Simulator, Options>>,
  options?: Options,
): Promise<RunningSandbox<Simulator>> => {
  const running = await (await provider.sandbox()).startSandbox(options);
  configureEnvironment(
    Object.fromEntries(
      Object.entries(running.settings).map(([setting, value]) => [variable(provider, setting), value]),
    ),
  );
  return running;
};

// Shorthands the tests use (the descriptor is the only provider-specific part).
export const startMonogoto = (options: MonogotoSimulatorOptions = {}) => startSandbox(monogoto, options);
export const startEsimGo = (options: EsimGoSimulatorOptions = {}) => startSandbox(esimGo, options);
export const startStn = (options: StnSimulatorOptions = {}) => startSandbox(stn, options);

/** A fresh idempotency table on DynamoDB Local, then the operation's real handler and definition. */
export const loadOperation = async (
  endpoint: string,
  name: string,
  definitionExport: string,
  environment: Record<string, string> = {},
) => {
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(endpoint),
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    ...environment,
  });
  const { handler } = (await import(`../functions/${name}/index.ts`)) as { handler: Handler };
  const definition = ((await import(`../shared/operations/${name}/index.ts`)) as Record<string, OperationDefinition>)[
    definitionExport
  ] as OperationDefinition;
  return { handler, definition };
};

export const apiGatewayEvent = (definition: Pick<OperationContract, 'route'>, call: HttpCall): APIGatewayProxyEvent => {
  const path = call.path.split('?')[0] ?? call.path;
  const route = matchResource(definition.route.path, path);
  if (route === undefined) throw new Error(`${call.path} does not match ${definition.route.path}`);
  const body = call.body === undefined ? '' : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  const headers: Record<string, string> = {
    host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'user-agent': 'vitest',
    ...call.headers,
  };
  if (body !== '' && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  return toApiGatewayEvent(
    { method: call.method, url: call.path, headers, body, sourceIp: '203.0.113.10' },
    route,
    call.caller ?? LOCAL_CALLER_ARN,
  );
};

/** API Gateway's checks for one operation's method, as deployed (infra/gateway/), before its handler runs. */
const gateways = new WeakMap<object, ReturnType<typeof createApiGateway>>();
/** The gateway's method for a route the tests name: a registered route, or a test-only operation's own. */
const gatewayFor = (definition: Pick<OperationContract, 'route' | 'name'> & Partial<OperationContract>) => {
  const route =
    routes.find((candidate) => candidate.name === definition.name && candidate.path === definition.route.path) ??
    (definition.request === undefined ? undefined : operationRoute(definition as OperationContract));
  if (route === undefined) throw new Error(`${definition.name} is no route of the gateway`);
  const gateway = gateways.get(definition) ?? createApiGateway([{ route }]);
  gateways.set(definition, gateway);
  return gateway;
};

/**
 * Invokes the handler as the deployed API does: API Gateway's own checks first (a request it refuses never reaches the
 * handler, and gets API Gateway's answer), then the REST proxy event.
 */
export const invoke = async (
  handler: Handler,
  definition: Pick<OperationContract, 'route' | 'name'> & Partial<OperationContract>,
  call: HttpCall,
): Promise<Answer> => {
  const event = apiGatewayEvent(definition, call);
  const admission = gatewayFor(definition).admit({
    method: event.httpMethod,
    url: call.path,
    headers: Object.fromEntries(Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), value])),
    body: event.body ?? '',
  });
  const result =
    'refused' in admission
      ? admission.refused
      : await handler(event, lambdaContext(definition.name, call.timeoutMs ?? 28_000));
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
  const body = JSON.parse(result.body) as Record<string, unknown>;
  assertMatchesContract({
    method: call.method,
    route: definition.route.path,
    status: result.statusCode,
    contentType: headers['content-type'],
    body,
    requestBody: typeof call.body === 'object' ? call.body : undefined,
  });
  return { status: result.statusCode, headers, body };
};
