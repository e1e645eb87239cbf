/** The gateway's HTTP answers: JSON for successes, application/problem+json (RFC 9457) for every error. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ProblemError } from '../errors.js';
import { metrics } from '../observability.js';

const baseHeaders = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export const jsonResponse = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult => ({
  statusCode,
  headers: {
    ...baseHeaders,
    'content-type': statusCode >= 400 ? 'application/problem+json' : 'application/json',
    ...headers,
  },
  body: JSON.stringify(body),
});

export const problemResponse = (error: ProblemError): APIGatewayProxyResult =>
  jsonResponse(
    error.status,
    error.toProblem(),
    error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) },
  );

/** Counts an answer by status class (`Http2xx`, `Http4xx`, `Http5xx`), the same metric for every route. */
export const countAnswer = (response: APIGatewayProxyResult): APIGatewayProxyResult => {
  metrics.addMetric(`Http${Math.floor(response.statusCode / 100)}xx`, 'Count', 1);
  return response;
};
