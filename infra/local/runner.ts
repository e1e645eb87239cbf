/**
 * The local gateway: embedded DynamoDB, built-in provider sandboxes for unconfigured providers, and an HTTP
 * server that hands each request, as an API Gateway REST proxy event, to the same handler Lambda runs.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ProblemError } from '../../shared/errors.js';
import { problemResponse } from '../../shared/http/response.js';
import { type RouteDefinition, routes as routeDefinitions } from '../../shared/http/routes.js';
import { functionEntry } from '../functions.js';
import { FUNCTION_TIMEOUT_SECONDS } from '../time-budget.js';
import { MAX_REQUEST_BYTES, createApiGateway } from './api-gateway.js';
import { lambdaContext, toApiGatewayEvent, writeResult } from './apigw-event.js';
import { type LocalDynamo, dynamoClient, ensureTables, startDynamo } from './dynamodb.js';
import { serveDocs } from './docs.js';
import { LOCAL_EVENTS_PREFIX, createLocalEventBus } from './events.js';
import { installLocalBatchItems } from './batch-items.js';
import { installLocalFollowUps } from './follow-ups.js';
import type { AnyProvider } from '../../shared/providers/provider.js';
import { providers as registeredProviders } from '../../shared/providers/registry.js';
import { type StartedSandbox, startSandboxes } from './sandboxes.js';
import { installLocalSinks } from './sinks.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Matches the deployed functions' timeout. */
const FUNCTION_TIMEOUT_MS = FUNCTION_TIMEOUT_SECONDS * 1000;

export interface LocalGatewayOptions {
  port?: number;
  host?: string;
  /** The provider descriptors to run with (sandboxes for the unconfigured ones); every registered one by default. */
  providers?: readonly AnyProvider[];
}

export interface LocalGateway {
  url: string;
  dynamo: LocalDynamo;
  sandboxes: StartedSandbox[];
  /** The providers this gateway runs with (their descriptors). */
  providers: readonly AnyProvider[];
  stop: () => Promise<void>;
}

const readBody = async (request: IncomingMessage): Promise<string | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even past the limit (keeping nothing), so the client gets the 413 rather than a reset.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
};

/** Sets the process environment the handlers read at import: the same variables a deployed function has. */
const prepareEnvironment = (env: NodeJS.ProcessEnv, dynamoEndpoint: string): void => {
  env.AWS_ENDPOINT_URL_DYNAMODB = dynamoEndpoint;
  env.AWS_REGION ??= 'us-east-1';
  env.AWS_ACCESS_KEY_ID ??= 'local';
  env.AWS_SECRET_ACCESS_KEY ??= 'local';
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  env.IDEMPOTENCY_TABLE_NAME ??= 'sim-cancel-gateway-idempotency';
  env.OPERATIONS_TABLE_NAME ??= 'sim-cancel-gateway-operations';
  env.BATCHES_TABLE_NAME ??= 'sim-cancel-gateway-batches';
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
  // Follow-ups locally within seconds, not the minute AWS waits, so a new user sees an operation reach its final state.
  env.FOLLOW_UP_FIRST_DELAY_SECONDS ??= '2';
  env.FOLLOW_UP_MAX_DELAY_SECONDS ??= '10';
};

export const startLocalGateway = async (options: LocalGatewayOptions = {}): Promise<LocalGateway> => {
  // The handlers read process.env, exactly as in Lambda, so the runner configures the process itself.
  const env = process.env;
  const dynamo = await startDynamo(env.DYNAMODB_ENDPOINT);
  prepareEnvironment(env, dynamo.endpoint);
  const client = dynamoClient(dynamo.endpoint);
  await ensureTables(client, {
    idempotency: env.IDEMPOTENCY_TABLE_NAME as string,
    operations: env.OPERATIONS_TABLE_NAME as string,
    batches: env.BATCHES_TABLE_NAME as string,
  });
  client.destroy();

  const providers = options.providers ?? registeredProviders;
  const sandboxes = await startSandboxes(env, providers);
  // No bus and no dead-letter queue locally: the handlers' outcome events and dead letters are kept in memory.
  installLocalSinks();

  const routes: Array<{ route: RouteDefinition; handler: Handler }> = [];
  for (const route of routeDefinitions) {
    const module = (await import(pathToFileURL(functionEntry(route.name)).href)) as { handler: Handler };
    routes.push({ route, handler: module.handler });
  }
  const localEvents = createLocalEventBus(routes);
  // Follow-ups (sTN CANCELLING, refunds) come back to their operation's handler when due, as from its SQS queue.
  const queueHandlers = new Map(
    routes.flatMap(({ route, handler }) =>
      route.operation === undefined ? [] : [[route.operation.name, handler as unknown as QueueHandler] as const],
    ),
  );
  const followUps = installLocalFollowUps(queueHandlers);
  // Batch items go to their operation's handler as from its queue, a few at a time.
  const batchItems = installLocalBatchItems(queueHandlers);
  const gateway = createApiGateway(routes);

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    if (path.startsWith(LOCAL_EVENTS_PREFIX)) return localEvents.serve(request, response, method, path);
    if (method === 'GET' && (await serveDocs(path, response))) return;
    // API Gateway's steps first (payload limit, route, request validation), then the function, as deployed.
    const body = await readBody(request);
    const admission = gateway.admit({ method, url: request.url ?? '/', headers: request.headers, body });
    if ('refused' in admission) return writeResult(response, admission.refused);
    const { route, handler } = admission.route;
    const event = toApiGatewayEvent(
      {
        method,
        url: request.url ?? '/',
        headers: request.headers,
        body: body ?? '',
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      },
      admission.match,
    );
    return writeResult(response, await handler(event, lambdaContext(route.name, FUNCTION_TIMEOUT_MS)));
  };

  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      console.error('local runner: unhandled error', error);
      if (!response.headersSent)
        writeResult(response, problemResponse(new ProblemError('internal-error', 'The local runner failed.')));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? Number(env.PORT ?? 3000), options.host ?? env.HOST ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    dynamo,
    sandboxes,
    providers,
    stop: async () => {
      await Promise.all([followUps.stop(), batchItems.stop()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([dynamo.stop(), ...sandboxes.map((sandbox) => sandbox.stop())]);
    },
  };
};
