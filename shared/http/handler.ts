/**
 * Builds the Lambda handler of an HTTP operation from its definition: parse and validate, then either
 * preview (dry run) or run under idempotency; every error leaves as problem+json through one mapping.
 */
import { createHash } from 'node:crypto';
import { correlationPaths } from '@aws-lambda-powertools/logger/correlationId';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { assertConfigured } from '../config.js';
import { toProblemError } from '../errors.js';
import { createIdempotentRunner } from '../idempotency.js';
import { logger, metrics, tracer } from '../observability.js';
import type { OperationDefinition } from '../operations/definition.js';
import { newOperationId } from '../operations/run.js';
import { parseRequest } from './request.js';
import { jsonResponse, problemResponse } from './response.js';

/** Logged instead of the key itself: keys may carry customer references. */
const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export const createHttpHandler = <Input extends Record<string, unknown>>(definition: OperationDefinition<Input>) => {
  // In Lambda, a missing setting fails the init with a message that names it.
  if (process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined) assertConfigured(definition.requiredConfig ?? []);
  const runIdempotently = createIdempotentRunner(definition);

  const handle = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const response = await answer(event, context);
    metrics.addMetric(`Http${Math.floor(response.statusCode / 100)}xx`, 'Count', 1);
    return response;
  };

  const answer = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    try {
      const request = parseRequest(event, definition);
      logger.appendKeys({ operation: definition.name, caller: request.caller });
      if (request.dryRun) {
        const preview = await definition.dryRun(request.input);
        return jsonResponse(200, { operationId: newOperationId(), operation: definition.name, status: 'validated', ...preview });
      }
      const key = request.idempotencyKey as string;
      logger.appendKeys({ idempotencyKeyHash: keyHash(key) });
      const result = await runIdempotently({ scope: { caller: request.caller, key }, input: request.input }, context);
      if (result.replayed) metrics.addMetric('IdempotentReplays', 'Count', 1);
      logger.info('operation answered', { statusCode: result.statusCode, replayed: result.replayed === true, operationId: result.body.operationId });
      return jsonResponse(result.statusCode, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
    } catch (error) {
      const problem = toProblemError(error);
      if (problem.kind === 'internal-error') logger.error('unexpected failure', { error: problem.cause });
      else if (problem.status >= 500) logger.warn('operation failed', { problem: problem.kind, status: problem.status, detail: problem.detail });
      else logger.info('request refused', { problem: problem.kind, status: problem.status });
      return problemResponse(problem);
    }
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { correlationIdPath: correlationPaths.API_GATEWAY_REST, resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
};
