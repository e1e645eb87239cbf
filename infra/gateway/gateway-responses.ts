/**
 * The answers API Gateway gives itself (validation, authentication, unknown routes, throttling), in the handlers'
 * problem+json shape: one table the stack deploys (infra/api-access.ts) and the local runner renders
 * (infra/local/api-gateway.ts), the way API Gateway renders it.
 *
 * A gateway response template is plain substitution (no VTL, no `$util`), so only `$context.error.messageString`,
 * which API Gateway quotes and escapes itself, may carry API Gateway's words into the JSON: `message` and
 * `validationErrorString` are raw, and a `"` in them would break the body. A status is written only where the response type fixes it; the two defaults
 * keep the status API Gateway chose (an integration timeout's 504, a quota's 429) and leave it out of the body.
 */
import { PROBLEM_TYPE_BASE } from '../../shared/errors.js';

export type GatewayResponseType =
  | 'BAD_REQUEST_BODY'
  | 'BAD_REQUEST_PARAMETERS'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INVALID_SIGNATURE'
  | 'EXPIRED_TOKEN'
  | 'ACCESS_DENIED'
  | 'REQUEST_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'THROTTLED'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

export interface GatewayResponseDefinition {
  type: GatewayResponseType;
  /** The status this answer always has; undefined keeps the one API Gateway chose. */
  status: number | undefined;
  headers: Record<string, string>;
  /** The `application/json` template, with API Gateway's `$context` variables. */
  template: string;
}

const MESSAGE = '$context.error.messageString';

const problem = (
  type: GatewayResponseType,
  status: number | undefined,
  kind: string,
  title: string,
  detail = MESSAGE,
): GatewayResponseDefinition => ({
  type,
  status,
  headers: { 'Content-Type': 'application/problem+json' },
  template: `{"type":"${PROBLEM_TYPE_BASE}${kind}","title":"${title}",${status === undefined ? '' : `"status":${status},`}"detail":${detail}}`,
});

export const gatewayResponses: readonly GatewayResponseDefinition[] = [
  problem('BAD_REQUEST_BODY', 400, 'invalid-request', 'The request is not valid'),
  problem('BAD_REQUEST_PARAMETERS', 400, 'invalid-request', 'The request is not valid'),
  problem(
    'MISSING_AUTHENTICATION_TOKEN',
    404,
    'not-found',
    'Not found',
    '"No such route, or the request is not signed with SigV4."',
  ),
  problem('INVALID_SIGNATURE', 403, 'access-denied', 'Access denied'),
  problem('EXPIRED_TOKEN', 403, 'access-denied', 'Access denied'),
  problem('ACCESS_DENIED', 403, 'access-denied', 'Access denied'),
  problem('REQUEST_TOO_LARGE', 413, 'payload-too-large', 'The request body is too large'),
  problem('UNSUPPORTED_MEDIA_TYPE', 415, 'unsupported-media-type', 'The request body must be application/json'),
  problem('THROTTLED', 429, 'throttled', 'Too many requests', '"The API is throttling this caller; retry later."'),
  problem('DEFAULT_4XX', undefined, 'client-error', 'The request was refused'),
  problem('DEFAULT_5XX', undefined, 'gateway-error', 'API Gateway failed'),
];

/** One of API Gateway's own refusals: its response type, status, `$context.error.message` and `x-amzn-ErrorType`. */
export interface GatewayError {
  type: GatewayResponseType;
  status: number;
  message: string;
  errorType: string;
}

/** The refusals the local runner reproduces, worded as API Gateway words them. */
export const gatewayErrors = {
  missingParameters: (names: readonly string[]): GatewayError => ({
    type: 'BAD_REQUEST_PARAMETERS',
    status: 400,
    message: `Missing required request parameters: [${names.join(', ')}]`,
    errorType: 'BadRequestException',
  }),
  /** No resource and method for the request: with IAM authorization, API Gateway answers this, not a 404. */
  noRoute: (): GatewayError => ({
    type: 'MISSING_AUTHENTICATION_TOKEN',
    status: 403,
    message: 'Missing Authentication Token',
    errorType: 'MissingAuthenticationTokenException',
  }),
  tooLarge: (): GatewayError => ({
    type: 'REQUEST_TOO_LARGE',
    status: 413,
    message: 'Request Too Long',
    errorType: 'RequestTooLargeException',
  }),
};

export interface RenderedGatewayResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A gateway response as API Gateway sends it: the type's own response where one is defined, else DEFAULT_4XX or
 * DEFAULT_5XX by the chosen status; `messageString` substituted quoted and escaped; the status the response fixes,
 * or the one API Gateway chose; and API Gateway's `x-amzn-ErrorType`, which no function answer carries.
 */
export const renderGatewayResponse = (
  responses: readonly GatewayResponseDefinition[],
  error: GatewayError,
): RenderedGatewayResponse => {
  const fallback: GatewayResponseType = error.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const response =
    responses.find((candidate) => candidate.type === error.type) ??
    responses.find((candidate) => candidate.type === fallback);
  const statusCode = response?.status ?? error.status;
  if (response === undefined)
    return {
      statusCode,
      headers: { 'Content-Type': 'application/json', 'x-amzn-ErrorType': error.errorType },
      body: JSON.stringify({ message: error.message }),
    };
  return {
    statusCode,
    headers: { ...response.headers, 'x-amzn-ErrorType': error.errorType },
    body: response.template.replaceAll(MESSAGE, JSON.stringify(error.message)),
  };
};
