/**
 * GET /v1/operations/{operationId}: the audit record of an operation, for the caller that asked for it. Anyone else
 * gets the same 404 as for an unknown id, so ids reveal nothing.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { readOperation } from '../../shared/audit.js';
import { ProblemError, invalidRequest } from '../../shared/errors.js';
import { logProblem } from '../../shared/http/handler.js';
import { callerIdentity } from '../../shared/http/request.js';
import { jsonResponse, problemResponse } from '../../shared/http/response.js';
import { logger } from '../../shared/observability.js';

const OPERATION_ID = /^op_[0-9a-f]{32}$/;

const answer = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  logger.setCorrelationId(event.requestContext?.requestId);
  try {
    const operationId = event.pathParameters?.operationId ?? '';
    if (!OPERATION_ID.test(operationId)) throw invalidRequest([{ path: 'operationId', message: 'must look like op_ followed by 32 hex digits' }]);
    const record = await readOperation(operationId);
    if (record === undefined || record.caller !== callerIdentity(event)) throw new ProblemError('not-found', `No operation ${operationId} for this caller.`);
    const { expiresAt, lastAttempt: _internal, ...visible } = record;
    return jsonResponse(200, { ...visible, retainedUntil: new Date(expiresAt * 1000).toISOString() });
  } catch (error) {
    return problemResponse(logProblem(error));
  }
};

export const handler = middy(answer).use(injectLambdaContext(logger, { resetKeys: true }));
