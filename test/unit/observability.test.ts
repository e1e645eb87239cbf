/**
 * Every function goes through the one Lambda wrapper (shared/lambda.ts): invoked with a Lambda context, each logs with
 * that context and publishes its cold-start metric on its first invocation only. Each function is loaded in a fresh
 * module registry, as in its own Lambda container, with logs and metrics on.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, matchResource, toApiGatewayEvent } from '../../infra/local/apigw-event.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const functions = {
  'cancel-esim': {
    load: () => import('../../functions/cancel-esim/index.js'),
    method: 'POST',
    resource: '/v1/monogoto/esims/{iccid}/cancel',
    path: '/v1/monogoto/esims/not-an-iccid/cancel',
  },
  'get-operation': {
    load: () => import('../../functions/get-operation/index.js'),
    method: 'GET',
    resource: '/v1/operations/{operationId}',
    path: '/v1/operations/op_not-an-id',
  },
  openapi: {
    load: () => import('../../functions/openapi/index.js'),
    method: 'GET',
    resource: '/v1/openapi.json',
    path: '/v1/openapi.json',
  },
} as const;

const lines: string[] = [];
const streams = [process.stdout, process.stderr] as const;
const originalWrites = streams.map((stream) => stream.write.bind(stream));
const saved = {
  level: process.env.POWERTOOLS_LOG_LEVEL,
  metrics: process.env.POWERTOOLS_METRICS_DISABLED,
  initialization: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
};

beforeAll(() => {
  // Read when the logger and metrics are created, i.e. at each fresh import below. Lambda sets the initialization type;
  // without it Powertools reports no cold start.
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  });
  streams.forEach((stream) => {
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof stream.write;
  });
});
afterAll(() => {
  streams.forEach((stream, index) => (stream.write = originalWrites[index] as typeof stream.write));
  for (const [name, value] of Object.entries({
    POWERTOOLS_LOG_LEVEL: saved.level,
    POWERTOOLS_METRICS_DISABLED: saved.metrics,
    AWS_LAMBDA_INITIALIZATION_TYPE: saved.initialization,
  })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
beforeEach(() => {
  lines.length = 0;
});

const records = () =>
  lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const coldStarts = (functionName: string) =>
  records().filter((record) => record.ColdStart === 1 && record.function_name === functionName);

describe.each(Object.entries(functions))('%s', (name, entry) => {
  it('logs with the Lambda context and publishes its cold-start metric once', async () => {
    vi.resetModules();
    const { handler } = (await entry.load()) as unknown as { handler: Handler };
    const { logger } = await import('../../shared/observability.js');
    const invoke = async () => {
      const context = lambdaContext(name, 28_000);
      const event = toApiGatewayEvent(
        { method: entry.method, url: entry.path, headers: {}, body: '', sourceIp: '127.0.0.1' },
        matchResource(entry.resource, entry.path) ?? { resource: entry.resource, pathParameters: {} },
      );
      const result = await handler(event, context);
      // Whatever the handler itself logs, the logger now carries this invocation's context.
      logger.info('probe');
      return { context, event, result };
    };

    const first = await invoke();
    expect(first.result.statusCode).toBe(name === 'openapi' ? 200 : 400);
    expect(coldStarts(name), lines.join('').slice(0, 2000)).toHaveLength(1);
    const logged = records().filter((record) => record.function_request_id === first.context.awsRequestId);
    expect(logged.map((record) => record.message)).toContain('probe');
    expect(
      logged.every(
        (record) =>
          record.function_name === name && record.cold_start === true && record.service === 'sim-cancel-gateway',
      ),
    ).toBe(true);
    // The handler's own line (the refused request) too, with the request's correlation id.
    if (name !== 'openapi')
      expect(logged.find((record) => record.message === 'request refused')).toMatchObject({
        correlation_id: first.event.requestContext.requestId,
        problem: 'invalid-request',
      });

    lines.length = 0;
    const second = await invoke();
    expect(coldStarts(name)).toHaveLength(0);
    expect(records().find((record) => record.message === 'probe')).toMatchObject({
      function_request_id: second.context.awsRequestId,
      cold_start: false,
    });
    // An answer is always counted, so the metrics flush never runs empty (Powertools would warn on every invocation).
    expect(lines.join('')).not.toContain('No application metrics to publish');
  }, 20_000); // a fresh import of a whole function, on a shared machine
});
