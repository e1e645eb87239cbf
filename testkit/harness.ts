/**
 * Integration harness: a fresh idempotency table on DynamoDB Local, a Monogoto simulator over real HTTP,
 * and the real handler module, imported after the environment is set exactly as in Lambda. Events are made
 * by the local runner's API Gateway translation, which test/unit/apigw-event.test.ts checks against a
 * recorded API Gateway REST proxy event.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { LOCAL_CALLER_ARN, lambdaContext, matchResource, toApiGatewayEvent } from '../infra/local/apigw-event.js';
import { dynamoClient, ensureTables } from '../infra/local/dynamodb.js';
import type { OperationDefinition } from '../shared/operations/definition.js';
import { assertMatchesContract } from '../test/support/contract.js';
import { ESIM_GO_SANDBOX_API_KEY, createEsimGoSimulator } from '../sandbox/esim-go/simulator.js';
import { MONOGOTO_SANDBOX_CREDENTIALS, createMonogotoSimulator } from '../sandbox/monogoto/simulator.js';
import { STN_SANDBOX_API_KEY, createStnSimulator } from '../sandbox/stn/simulator.js';

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
  const names = { idempotency: `idempotency-${suffix}`, operations: `operations-${suffix}` };
  const client = dynamoClient(endpoint);
  await ensureTables(client, names);
  client.destroy();
  configureEnvironment({ OPERATIONS_TABLE_NAME: names.operations });
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
  const { Items = [] } = await documentClient.send(new ScanCommand({ TableName: table, FilterExpression: 'begins_with(id, :prefix)', ExpressionAttributeValues: { ':prefix': 'target#' } }));
  await Promise.all(Items.map((item) => documentClient.send(new DeleteCommand({ TableName: table, Key: { id: item.id } }))));
};

/** Prepares the process environment as the deployed function has it. Call before importing a handler. */
export const configureEnvironment = (values: Record<string, string>): void => {
  Object.assign(process.env, values);
};

export const startMonogoto = async (options: Parameters<typeof createMonogotoSimulator>[0] = {}) => {
  const simulator = createMonogotoSimulator(options);
  const url = await simulator.server.start();
  configureEnvironment({ MONOGOTO_BASE_URL: url, MONOGOTO_USERNAME: MONOGOTO_SANDBOX_CREDENTIALS.username, MONOGOTO_PASSWORD: MONOGOTO_SANDBOX_CREDENTIALS.password });
  return simulator;
};

export const startEsimGo = async (options: Parameters<typeof createEsimGoSimulator>[0] = {}) => {
  const simulator = createEsimGoSimulator(options);
  const url = await simulator.server.start();
  configureEnvironment({ ESIM_GO_BASE_URL: url, ESIM_GO_API_KEY: ESIM_GO_SANDBOX_API_KEY });
  return simulator;
};

export const startStn = async (options: Parameters<typeof createStnSimulator>[0] = {}) => {
  const simulator = createStnSimulator(options);
  const url = await simulator.server.start();
  configureEnvironment({ STN_BASE_URL: url, STN_API_KEY: STN_SANDBOX_API_KEY });
  return simulator;
};

/** A fresh idempotency table on DynamoDB Local, then the operation's real handler and definition. */
export const loadOperation = async (endpoint: string, name: string, definitionExport: string, environment: Record<string, string> = {}) => {
  configureEnvironment({ IDEMPOTENCY_TABLE_NAME: await newTable(endpoint), AWS_ENDPOINT_URL_DYNAMODB: endpoint, ...environment });
  const { handler } = (await import(`../../functions/${name}/index.ts`)) as { handler: Handler };
  const definition = ((await import(`../../shared/operations/${name}.ts`)) as Record<string, OperationDefinition>)[definitionExport] as OperationDefinition;
  return { handler, definition };
};

export const apiGatewayEvent = (definition: OperationDefinition, call: HttpCall): APIGatewayProxyEvent => {
  const path = call.path.split('?')[0] ?? call.path;
  const route = matchResource(definition.route.path, path);
  if (route === undefined) throw new Error(`${call.path} does not match ${definition.route.path}`);
  const body = call.body === undefined ? '' : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  const headers: Record<string, string> = { host: 'abc123.execute-api.us-east-1.amazonaws.com', 'user-agent': 'vitest', ...call.headers };
  if (body !== '' && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  return toApiGatewayEvent({ method: call.method, url: call.path, headers, body, sourceIp: '203.0.113.10' }, route, call.caller ?? LOCAL_CALLER_ARN);
};

export const invoke = async (handler: Handler, definition: OperationDefinition, call: HttpCall): Promise<Answer> => {
  const result = await handler(apiGatewayEvent(definition, call), lambdaContext(definition.name, call.timeoutMs ?? 28_000));
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  const body = JSON.parse(result.body) as Record<string, unknown>;
  assertMatchesContract({ method: call.method, route: definition.route.path, status: result.statusCode, contentType: headers['content-type'], body, requestBody: typeof call.body === 'object' ? call.body : undefined });
  return { status: result.statusCode, headers, body };
};
