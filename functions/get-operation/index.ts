/**
 * GET /v1/operations/{operationId}: the audit record of an operation, for the caller that asked for it. Anyone else
 * gets the same 404 as for an unknown id, so ids reveal nothing.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from '../../shared/zod.js';
import { readOperation } from '../../shared/audit.js';
import { ProblemError, invalidInput } from '../../shared/errors.js';
import { logProblem } from '../../shared/http/http-answer.js';
import { callerIdentity } from '../../shared/http/request.js';
import { countAnswer, jsonResponse, problemResponse } from '../../shared/http/response.js';
import { visibleOperation } from '../../shared/history/records.js';
import { withObservability } from '../../shared/lambda.js';
import { logger } from '../../shared/observability.js';

const pathSchema = z.object({
  operationId: z.string().regex(/^op_[0-9a-f]{32}$/, 'must look like op_ followed by 32 hex digits'),
});

const read = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  logger.setCorrelationId(event.requestContext?.requestId);
  try {
    const path = pathSchema.safeParse({ operationId: event.pathParameters?.operationId ?? '' });
    if (!path.success) throw invalidInput(path.error.issues, { root: 'operationId' });
    const { operationId } = path.data;
    const record = await readOperation(operationId);
    if (record === undefined || record.caller !== callerIdentity(event))
      throw new ProblemError('not-found', `No operation ${operationId} for this caller.`);
    return jsonResponse(200, visibleOperation(record));
  } catch (error) {
    return problemResponse(logProblem(error));
  }
};

export const handler = withObservability(async (event: APIGatewayProxyEvent) => countAnswer(await read(event)));
