/**
 * The HTTP path of an operation: parse and validate, then either preview (dry run) or run under idempotency;
 * every error leaves as problem+json through one mapping.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { toProblemError } from '../errors.js';
import { type IdempotentRunner, keyHash } from '../idempotency.js';
import { logger, metrics } from '../observability.js';
import type { OperationDefinition } from '../operations/definition.js';
import { newOperationId } from '../operations/pipeline/execution.js';
import { createRecorder } from '../operations/pipeline/recorder.js';
import { parseRequest } from './request.js';
import { countAnswer, jsonResponse, problemResponse } from './response.js';

/** Writes the log line for an answered error: a bug is an error with its stack; anything else says what happened. */
export const logProblem = (error: unknown) => {
  const problem = toProblemError(error);
  if (problem.kind === 'internal-error') logger.error('unexpected failure', { error: problem.cause as Error });
  else if (problem.status >= 500)
    logger.warn('operation failed', { problem: problem.kind, status: problem.status, detail: problem.detail });
  else logger.info('request refused', { problem: problem.kind, status: problem.status });
  return problem;
};

export const createHttpAnswer = <Input extends Record<string, unknown>>(
  definition: OperationDefinition<Input>,
  runIdempotently: IdempotentRunner<Input>,
) => {
  const answer = async (
    event: APIGatewayProxyEvent,
    context: Context,
    recorder: ReturnType<typeof createRecorder>,
  ): Promise<APIGatewayProxyResult> => {
    try {
      const request = parseRequest(event, definition);
      logger.appendKeys({ operation: definition.name, caller: request.caller });
      if (request.dryRun) {
        const preview = await definition.dryRun(request.input);
        return jsonResponse(200, {
          operationId: newOperationId(),
          operation: definition.name,
          target: definition.target(request.input),
          status: 'validated',
          ...preview,
        });
      }
      const key = request.idempotencyKey as string;
      logger.appendKeys({ idempotencyKeyHash: keyHash(key) });
      const result = await runIdempotently(
        {
          scope: { caller: request.caller, key },
          input: request.input,
          meta: { source: 'http', keyHash: keyHash(key) },
        },
        context,
        recorder,
      );
      if (result.replayed) metrics.addMetric('IdempotentReplays', 'Count', 1);
      logger.info('operation answered', {
        statusCode: result.statusCode,
        replayed: result.replayed === true,
        operationId: result.body.operationId,
      });
      return jsonResponse(result.statusCode, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
    } catch (error) {
      return problemResponse(logProblem(error));
    }
  };

  return async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    logger.setCorrelationId(event.requestContext?.requestId);
    const recorder = createRecorder();
    const response = await answer(event, context, recorder);
    await recorder.settle();
    return countAnswer(response);
  };
};
