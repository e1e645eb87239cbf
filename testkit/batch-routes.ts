/** Calls the batch routes' real handlers in-process with API Gateway events, and waits for a batch's status. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { lambdaContext } from '../infra/local/apigw-event.js';
import { batchRoutes } from '../shared/http/routes.js';
import { type Handler, apiGatewayEvent } from './harness.js';

/** A batch route's JSON answer, as the tests read it. */
export interface BatchBody {
  batchId: string;
  status: string;
  counts: Record<string, number>;
  preview?: unknown;
  items?: Array<{ status: string }>;
  [field: string]: unknown;
}

export interface BatchAnswer {
  status: number;
  headers: Record<string, string>;
  /** JSON answers parsed; a CSV answer as its text. */
  body: BatchBody | string;
}

/** Imports the five batch functions (after the environment is set) and answers calls to them by route name. */
export const batchRouteCaller = async () => {
  const handlers = Object.fromEntries(
    await Promise.all(
      batchRoutes.map(
        async (route) =>
          [
            route.name,
            ((await import(`../functions/${route.name}/index.ts`)) as { handler: Handler }).handler,
          ] as const,
      ),
    ),
  );
  const call = async (
    name: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<BatchAnswer> => {
    const route = batchRoutes.find((candidate) => candidate.name === name);
    const handler = handlers[name];
    if (route === undefined || handler === undefined) throw new Error(`no batch route ${name}`);
    const result = (await handler(
      apiGatewayEvent({ route: { method: route.method, path: route.path } } as never, {
        method: route.method,
        path,
        headers: options.headers,
        body: options.body,
      }),
      lambdaContext(name, 28_000),
    )) as APIGatewayProxyResult;
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([key, value]) => [key, String(value)]),
    );
    const json = headers['content-type']?.includes('json') === true;
    return {
      status: result.statusCode,
      headers,
      body: json ? (JSON.parse(result.body) as BatchBody) : result.body,
    };
  };
  /** Reads the batch until its status is one of `statuses`; its body then. */
  const until = async (batchId: string, statuses: readonly string[], timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const read = await call('get-batch', `/v1/batches/${batchId}`);
      const body = read.body as BatchBody;
      if (statuses.includes(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`batch not ${statuses.join('/')}: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  return { call, until };
};
