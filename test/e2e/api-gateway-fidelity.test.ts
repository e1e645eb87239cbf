/**
 * The local runner refuses what the deployed API Gateway would refuse, with the same status and body, and passes on
 * what it would pass on. Every contract's requests (examples, `tryIt` inputs and their broken variants, wrong
 * methods, empty path parameters, unknown routes, an oversized body) go through the running local gateway and through
 * an independent reading of the synthesized template's methods, validators, models and gateway responses
 * (testkit/api-gateway-template.ts).
 */
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalGateway } from '../../infra/local/runner.js';
import { operationRequest } from '../../infra/requests.js';
import { GatewayStack } from '../../infra/stack.js';
import { routes } from '../../shared/http/routes.js';
import { contracts } from '../../shared/operations/contracts.js';
import { type TemplateRequest, readApiGateway } from '../../testkit/api-gateway-template.js';

let gateway: LocalGateway;
let apiGateway: ReturnType<typeof readApiGateway>;

beforeAll(async () => {
  Object.assign(process.env, {
    MONOGOTO_BASE_URL: '',
    ESIM_GO_BASE_URL: '',
    STN_BASE_URL: '',
    DYNAMODB_ENDPOINT: '',
  });
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  apiGateway = readApiGateway(Template.fromStack(new GatewayStack(app, 'Fidelity', { routes })).toJSON() as never);
  const { startLocalGateway } = await import('../../infra/local/runner.js');
  gateway = await startLocalGateway({ port: 0 });
});
afterAll(async () => gateway.stop());

/** A raw request (fetch would add a Content-Type to a body without one), as a client sends it to API Gateway. */
const send = (request: TemplateRequest) =>
  new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const outgoing = httpRequest(`${gateway.url}${request.url}`, { method: request.method, headers: request.headers });
    outgoing.on('error', reject);
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    outgoing.end(request.body);
  });

const json = { 'content-type': 'application/json' };

/** Every request a client of the contracts could send, right and wrong. */
const corpus = (): Array<{ name: string; request: TemplateRequest }> => {
  const requests: Array<{ name: string; request: TemplateRequest }> = [];
  const add = (name: string, request: TemplateRequest) => requests.push({ name, request });
  for (const contract of contracts) {
    const inputs = [contract.example, ...contract.tryIt.map((entry) => entry.input)] as Array<Record<string, unknown>>;
    for (const [index, input] of inputs.entries()) {
      const { method, path, query, body } = operationRequest(contract, input, { dryRun: true });
      const url = `${path}?${new URLSearchParams(query).toString()}`;
      const text = body === undefined ? '' : JSON.stringify(body);
      add(`${contract.name} #${index}`, { method, url, headers: text === '' ? {} : json, body: text });
      if (index > 0) continue;
      const [firstField = 'field'] = Object.keys(contract.request.body?.shape ?? {});
      const broken: Array<[string, Record<string, string>, string]> = [
        ['an empty object', json, '{}'],
        ['no body', {}, ''],
        ['no body, typed JSON', json, ''],
        ['not JSON', json, 'not json'],
        ['not JSON, as text/plain', { 'content-type': 'text/plain' }, 'not json'],
        ['an array', json, '[]'],
        ['null', json, 'null'],
        ['an unknown field', json, JSON.stringify({ ...body, unexpected: 1 })],
        ['a number where a string goes', json, JSON.stringify({ ...body, [firstField]: 42 })],
        ['an empty object with a charset', { 'content-type': 'application/json; charset=utf-8' }, '{}'],
        ['an empty object, typed in capitals', { 'content-type': 'APPLICATION/JSON' }, '{}'],
        ['an empty object without Content-Type', {}, '{}'],
      ];
      for (const [what, headers, text] of broken)
        add(`${contract.name} with ${what}`, { method, url, headers, body: text });
      add(`${contract.name} with the wrong method`, {
        method: method === 'GET' ? 'PUT' : 'GET',
        url,
        headers: {},
        body: '',
      });
      const firstParameter = Object.keys(contract.request.path.shape)[0] as string;
      const emptied = contract.route.path.replace(`{${firstParameter}}`, '');
      add(`${contract.name} with an empty ${firstParameter}`, { method, url: emptied, headers: json, body: text });
    }
  }
  add('the OpenAPI document', { method: 'GET', url: '/v1/openapi.json', headers: {}, body: '' });
  add('POST to the OpenAPI document', { method: 'POST', url: '/v1/openapi.json', headers: json, body: '{}' });
  add('an operation nobody has', { method: 'GET', url: '/v1/operations/op_nobody', headers: {}, body: '' });
  add('an operation without an id', { method: 'GET', url: '/v1/operations/', headers: {}, body: '' });
  add('an unknown route', { method: 'GET', url: '/v1/nothing-here', headers: {}, body: '' });
  add('the root', { method: 'DELETE', url: '/', headers: {}, body: '' });
  const [first] = contracts;
  add('a body over API Gateway’s 10 MB', {
    method: 'POST',
    url: first?.route.path.replace(/\{\w+\}/g, '89440000000000000190') ?? '/',
    headers: json,
    body: 'x'.repeat(10 * 1024 * 1024 + 1),
  });
  return requests;
};

it('answers every contract request as the deployed API Gateway would: the same refusals, the same passes', async () => {
  const seen = { refused: 0, passed: 0 };
  for (const { name, request } of corpus()) {
    const verdict = apiGateway.answer(request);
    const response = await send(request);
    const body = response.body;
    if ('refused' in verdict) {
      seen.refused += 1;
      expect({ name, status: response.status, contentType: response.headers['content-type'], body }).toEqual({
        name,
        ...verdict.refused,
      });
      expect(() => JSON.parse(body) as unknown, name).not.toThrow();
    } else {
      seen.passed += 1;
      // Only API Gateway's own answers carry x-amzn-ErrorType: this one came from the function.
      expect({ name, errorType: response.headers['x-amzn-errortype'] ?? null }).toEqual({ name, errorType: null });
    }
  }
  // Neither side is vacuous: the corpus has requests API Gateway refuses and requests it passes on.
  expect(seen.refused).toBeGreaterThanOrEqual(10);
  expect(seen.passed).toBeGreaterThanOrEqual(contracts.length * 3);
});

it('reads from the template the parameters every method requires, and that no method has its body checked', () => {
  // A body model would refuse without naming the field, and where the contract says 415 or 413 (method-requests.ts).
  expect(apiGateway.methods.filter((method) => method.models.length > 0)).toEqual([]);
  for (const route of routes) {
    const method = apiGateway.methods.find(
      (candidate) => candidate.path === route.path && candidate.httpMethod === route.method,
    );
    expect(method?.validateParameters).toBe(true);
    const required = Object.keys(method?.parameters ?? {}).filter((name) => method?.parameters[name] === true);
    expect(required.map((name) => name.split('.').at(-1)).sort()).toEqual(
      [...route.path.matchAll(/\{(\w+)\}/g)].map((found) => found[1]).sort(),
    );
  }
});
