/**
 * Turns a Node HTTP request into the API Gateway REST API (v1) proxy event that the deployed stack sends to
 * the same handler, and the handler's result back into an HTTP response. Written by hand because no
 * maintained package does this without Docker or another framework (docs/architecture.md, the layout).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CALLER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local-developer`;
export const LOCAL_STAGE = 'local';

export interface RouteMatch {
  resource: string;
  pathParameters: Record<string, string>;
}

/** Matches a path against an API Gateway resource template such as `/v1/esims/{iccid}/cancel`. */
export const matchResource = (resource: string, path: string): RouteMatch | undefined => {
  const templateParts = resource.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return undefined;
  const pathParameters: Record<string, string> = {};
  for (const [index, templatePart] of templateParts.entries()) {
    const part = pathParts[index] ?? '';
    const parameter = /^\{(\w+)\}$/.exec(templatePart);
    if (parameter?.[1] !== undefined) {
      if (part.length === 0) return undefined;
      try {
        pathParameters[parameter[1]] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    } else if (part !== templatePart) return undefined;
  }
  return { resource, pathParameters };
};

export interface IncomingRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  sourceIp: string;
}

export const toApiGatewayEvent = (
  request: IncomingRequest,
  route: RouteMatch,
  caller = LOCAL_CALLER_ARN,
): APIGatewayProxyEvent => {
  const url = new URL(request.url, 'http://local');
  // Null-prototype maps: a header or parameter called `__proto__` must stay a plain entry.
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const multiValueHeaders: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    multiValueHeaders[name] = values;
    headers[name] = values[values.length - 1] ?? '';
  }
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  const multiValueQuery: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiValueQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = Date.now();
  return {
    resource: route.resource,
    path: url.pathname,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: Object.keys(route.pathParameters).length > 0 ? route.pathParameters : null,
    stageVariables: null,
    body: request.body.length > 0 ? request.body : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: null,
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: randomUUID(),
      httpMethod: request.method,
      path: `/${LOCAL_STAGE}${url.pathname}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: new Date(now).toUTCString(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: route.resource,
      stage: LOCAL_STAGE,
      identity: {
        accessKey: 'ASIALOCALDEVELOPER00',
        accountId: LOCAL_ACCOUNT_ID,
        apiKey: null,
        apiKeyId: null,
        caller,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: caller,
        userAgent: headers['user-agent'] ?? null,
        userArn: caller,
      },
    },
  };
};

export const lambdaContext = (functionName: string, timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${awsRequestId}`,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

export const writeResult = (response: ServerResponse, result: APIGatewayProxyResult): void => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  response.writeHead(result.statusCode, headers);
  response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
};
