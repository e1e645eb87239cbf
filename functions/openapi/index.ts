/**
 * GET /v1/openapi.json: the document `npm run openapi` generates from the operation definitions (a test fails if
 * the committed file differs from a fresh build), bundled as data so this function carries no provider code.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import document from '../../docs/openapi.json' with { type: 'json' };
import { countAnswer, jsonResponse } from '../../shared/http/response.js';
import { withObservability } from '../../shared/lambda.js';

const body: APIGatewayProxyResult = jsonResponse(200, document, { 'cache-control': 'public, max-age=300' });

export const handler = withObservability(async (_event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> =>
  countAnswer(body),
);
