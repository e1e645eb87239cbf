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
 * throttling). These templates keep those answers in the same problem+json shape as the handlers' (the status in
 * the body is fixed per response type: templates cannot read the status code).
 */
export const addProblemResponses = (api: RestApi): void => {
  const templates: Array<[ResponseType, number, string, string, string]> = [
    [
      ResponseType.BAD_REQUEST_BODY,
      400,
      'invalid-request',
      'The request is not valid',
      '$context.error.validationErrorString',
    ],
    [
      ResponseType.BAD_REQUEST_PARAMETERS,
      400,
      'invalid-request',
      'The request is not valid',
      '$context.error.validationErrorString',
    ],
    [
      ResponseType.MISSING_AUTHENTICATION_TOKEN,
      404,
      'not-found',
      'Not found',
      'No such route, or the request is not signed with SigV4.',
    ],
    [ResponseType.INVALID_SIGNATURE, 403, 'access-denied', 'Access denied', '$context.error.message'],
    [ResponseType.EXPIRED_TOKEN, 403, 'access-denied', 'Access denied', '$context.error.message'],
    [ResponseType.ACCESS_DENIED, 403, 'access-denied', 'Access denied', '$context.error.message'],
    [
      ResponseType.REQUEST_TOO_LARGE,
      413,
      'payload-too-large',
      'The request body is too large',
      '$context.error.message',
    ],
    [
      ResponseType.UNSUPPORTED_MEDIA_TYPE,
      415,
      'unsupported-media-type',
      'The request body must be application/json',
      '$context.error.message',
    ],
    [ResponseType.THROTTLED, 429, 'throttled', 'Too many requests', 'The API is throttling this caller; retry later.'],
    [ResponseType.DEFAULT_4XX, 400, 'client-error', 'The request was refused', '$context.error.message'],
    [ResponseType.DEFAULT_5XX, 502, 'gateway-error', 'API Gateway failed', '$context.error.message'],
  ];
  for (const [type, status, kind, title, detail] of templates) {
    api.addGatewayResponse(`Problem${type.responseType}`, {
      type,
      statusCode: String(status),
      responseHeaders: { 'Content-Type': "'application/problem+json'" },
      templates: {
        'application/json': `{"type":"${PROBLEM_TYPE_BASE}${kind}","title":"${title}","status":${status},"detail":"${detail}"}`,
      },
    });
  }
};
