/** Who may call the API, and errors API Gateway itself answers, in the gateway's problem+json shape. */
import { ResponseType, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { PROBLEM_TYPE_BASE } from '../shared/errors.js';

/** An optional resource policy: only the listed accounts, and/or only through the listed VPC endpoints. */
export const resourcePolicy = (options: {
  allowedAccounts?: string[];
  allowedVpcEndpoints?: string[];
}): PolicyDocument | undefined => {
  const accounts = options.allowedAccounts ?? [];
  const endpoints = options.allowedVpcEndpoints ?? [];
  if (accounts.length === 0 && endpoints.length === 0) return undefined;
  const statements = [
    new PolicyStatement({
      effect: Effect.ALLOW,
      principals: accounts.length > 0 ? accounts.map((account) => new AccountPrincipal(account)) : [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
    }),
  ];
  if (endpoints.length > 0) {
    statements.push(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:SourceVpce': endpoints } },
      }),
    );
  }
  return new PolicyDocument({ statements });
};

/**
 * API Gateway answers some requests before any function runs (validation, authentication, unknown routes,
 * throttling). These templates keep those answers in the same problem+json shape as the handlers'. A gateway response
 * template is plain substitution (no VTL, no `$util`), so only `$context.error.messageString`, which API Gateway
 * quotes and escapes itself, may carry API Gateway's words into the JSON: `message` and `validationErrorString` are
 * raw and a `"` in them would break the body. A status is written only where the response type fixes it; the two
 * defaults keep the status API Gateway chose (an integration timeout's 504, a quota's 429) and leave it out of the body.
 */
export const addProblemResponses = (api: RestApi): void => {
  const detail = '$context.error.messageString';
  const templates: Array<[ResponseType, number | undefined, string, string, string]> = [
    [ResponseType.BAD_REQUEST_BODY, 400, 'invalid-request', 'The request is not valid', detail],
    [ResponseType.BAD_REQUEST_PARAMETERS, 400, 'invalid-request', 'The request is not valid', detail],
    [
      ResponseType.MISSING_AUTHENTICATION_TOKEN,
      404,
      'not-found',
      'Not found',
      '"No such route, or the request is not signed with SigV4."',
    ],
    [ResponseType.INVALID_SIGNATURE, 403, 'access-denied', 'Access denied', detail],
    [ResponseType.EXPIRED_TOKEN, 403, 'access-denied', 'Access denied', detail],
    [ResponseType.ACCESS_DENIED, 403, 'access-denied', 'Access denied', detail],
    [ResponseType.REQUEST_TOO_LARGE, 413, 'payload-too-large', 'The request body is too large', detail],
    [
      ResponseType.UNSUPPORTED_MEDIA_TYPE,
      415,
      'unsupported-media-type',
      'The request body must be application/json',
      detail,
    ],
    [
      ResponseType.THROTTLED,
      429,
      'throttled',
      'Too many requests',
      '"The API is throttling this caller; retry later."',
    ],
    [ResponseType.DEFAULT_4XX, undefined, 'client-error', 'The request was refused', detail],
    [ResponseType.DEFAULT_5XX, undefined, 'gateway-error', 'API Gateway failed', detail],
  ];
  for (const [type, status, kind, title, body] of templates) {
    const statusField = status === undefined ? '' : `"status":${status},`;
    api.addGatewayResponse(`Problem${type.responseType}`, {
      type,
      ...(status === undefined ? {} : { statusCode: String(status) }),
      responseHeaders: { 'Content-Type': "'application/problem+json'" },
      templates: {
        'application/json': `{"type":"${PROBLEM_TYPE_BASE}${kind}","title":"${title}",${statusField}"detail":${body}}`,
      },
    });
  }
};
