/**
 * The local runner must hand the handler the event API Gateway (REST, Lambda proxy) sends in AWS. The
 * fixture is an IAM-authorized proxy event in the shape AWS documents and delivers; the runner's events must
 * have the same fields, and the handler must read both the same way.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { matchResource, toApiGatewayEvent } from '../../infra/local/apigw-event.js';
import { parseRequest } from '../../shared/http/request.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';

const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/apigateway-rest-proxy-event.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEvent;
const keys = (value: object | null | undefined) => Object.keys(value ?? {}).sort();

const local = toApiGatewayEvent(
  {
    method: 'POST',
    url: '/v1/monogoto/esims/8944000000000000019/cancel?dryRun=true',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1234-cancel', host: 'localhost:3000' },
    body: '{"matchingId":"DDYSX7MJYEKHIXYGK3PU5GEQ"}',
    sourceIp: '127.0.0.1',
  },
  matchResource(cancelEsim.route.path, '/v1/monogoto/esims/8944000000000000019/cancel') ?? {
    resource: '',
    pathParameters: {},
  },
);

describe('local API Gateway events', () => {
  it('have the same fields as a recorded REST proxy event', () => {
    expect(keys(local)).toEqual(keys(recorded));
    expect(keys(local.requestContext)).toEqual(keys(recorded.requestContext));
    expect(keys(local.requestContext.identity)).toEqual(keys(recorded.requestContext.identity));
  });

  it('carry path parameters, query strings in both forms and the resource template', () => {
    expect(local.pathParameters).toEqual({ iccid: '8944000000000000019' });
    expect(local.queryStringParameters).toEqual({ dryRun: 'true' });
    expect(local.multiValueQueryStringParameters).toEqual({ dryRun: ['true'] });
    expect(local.resource).toBe(recorded.resource);
    expect(local.requestContext.resourcePath).toBe(recorded.requestContext.resourcePath);
  });

  it('are parsed the same way as the recorded event', () => {
    const fromAws = parseRequest(recorded, cancelEsim);
    // The recorded caller is a role session; the role (not the session) owns keys and operations (CALLER_SCOPE).
    expect(fromAws).toMatchObject({
      idempotencyKey: 'order-1234-cancel',
      caller: 'arn:aws:iam::123456789012:role/ops',
    });
    expect(recorded.requestContext.identity.userArn).toBe('arn:aws:sts::123456789012:assumed-role/ops/ops-session');
    expect(fromAws.input).toEqual({
      iccid: '8944000000000000019',
      matchingId: 'DDYSX7MJYEKHIXYGK3PU5GEQ',
      dryRun: false,
    });
    expect(parseRequest(local, cancelEsim).input).toEqual({ ...fromAws.input, dryRun: true });
  });

  it('match only their own resource template', () => {
    expect(matchResource('/v1/monogoto/esims/{iccid}/cancel', '/v1/monogoto/esims/123/cancel')).toEqual({
      resource: '/v1/monogoto/esims/{iccid}/cancel',
      pathParameters: { iccid: '123' },
    });
    expect(matchResource('/v1/monogoto/esims/{iccid}/cancel', '/v1/monogoto/esims//cancel')).toBeUndefined();
    expect(matchResource('/v1/monogoto/esims/{iccid}/cancel', '/v1/monogoto/esims/1/2/cancel')).toBeUndefined();
  });
});
