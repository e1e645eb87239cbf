/**
 * Neither the eSIM Go client nor its simulator may drift from eSIM Go's official v2.4 OpenAPI file
 * (test/fixtures/esim-go-v2.4.openapi.yaml, a verbatim copy):
 * - the client's zod schemas have the spec's fields with the spec's types;
 * - every answer the simulator gives validates against the spec's response schema for that status (closed:
 *   no field the spec does not define);
 * - every request the client sends uses a documented path, method and query parameters with valid values,
 *   and carries X-API-Key (which the spec's revoke operation forgets: it names the undefined `apiKeyAuth`).
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EsimGoClient } from '../../shared/providers/esim-go/client.js';
import { SPEC_COMPONENTS } from '../../shared/providers/esim-go/schemas.js';
import { RateLimiter } from '../../shared/providers/rate-limit.js';
import { ESIM_GO_SANDBOX_API_KEY, createEsimGoSimulator } from '../../sandbox/esim-go/simulator.js';

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; $ref?: string };
type Operation = {
  parameters?: Array<{ in: string; name: string; schema?: { type?: string; enum?: string[] } }>;
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  security?: Array<Record<string, unknown>>;
};
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
}

const SPEC_FILE = new URL('../fixtures/esim-go-v2.4.openapi.yaml', import.meta.url).pathname;
let spec: Spec;
let raw: Spec;
const simulator = createEsimGoSimulator({ requestsPerSecond: 1000 });
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });

/** The spec's schema with every object closed, so a field the spec does not define fails validation. */
const closed = (schema: Schema): object =>
  JSON.parse(JSON.stringify(schema), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as Schema).type === 'object'
      ? { ...value, additionalProperties: false }
      : value,
  ) as object;

/** Field names and JSON types of a schema, recursively: what drift would change. */
const outline = (schema: Schema | undefined): unknown => {
  if (schema === undefined) return undefined;
  const type = schema.type === 'integer' ? 'integer' : schema.type;
  if (type === 'object')
    return Object.fromEntries(
      Object.entries(schema.properties ?? {})
        .map(([name, property]) => [name, outline(property)])
        .sort(),
    );
  if (type === 'array') return [outline(schema.items)];
  return type;
};

const specPathFor = (method: string, path: string): [string, Operation] | undefined => {
  for (const [template, operations] of Object.entries(spec.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = operations[method.toLowerCase()];
    if (pattern.test(path) && operation !== undefined) return [template, operation];
  }
  return undefined;
};

const call = async (method: string, path: string, apiKey = ESIM_GO_SANDBOX_API_KEY) => {
  const response = await fetch(`${simulator.server.url}${path}`, { method, headers: { 'x-api-key': apiKey } });
  return { status: response.status, body: (await response.json()) as unknown };
};

beforeAll(async () => {
  spec = (await SwaggerParser.dereference(SPEC_FILE)) as unknown as Spec;
  raw = (await SwaggerParser.parse(SPEC_FILE)) as unknown as Spec;
  await simulator.server.start();
});
afterAll(async () => simulator.server.stop());

describe('eSIM Go client schemas', () => {
  it.each(Object.keys(SPEC_COMPONENTS))('%s has the spec fields and types', (name) => {
    const ours = z.toJSONSchema(SPEC_COMPONENTS[name as keyof typeof SPEC_COMPONENTS], { io: 'input' }) as Schema;
    expect(outline(ours)).toEqual(outline(spec.components.schemas[name]));
  });
});

describe('eSIM Go simulator answers', () => {
  const bundle = 'esim_1GB_7D_GB_V2';
  const scenarios: Array<[string, string, string, number]> = [
    ['eSIM details', 'GET', '/esims/8943108165015003887', 200],
    ['an unknown eSIM', 'GET', '/esims/8900000000000000000', 403],
    ['the bundle list', 'GET', '/esims/8944538532008160222/bundles?includeUsed=true&limit=200', 200],
    ['a bad list limit', 'GET', '/esims/8944538532008160222/bundles?limit=500', 400],
    ['one bundle status', 'GET', `/esims/8943108165015003887/bundles/${bundle}`, 200],
    ['a validate revoke', 'DELETE', `/esims/8943108165015003887/bundles/${bundle}?type=validate`, 200],
    ['a revoke', 'DELETE', `/esims/8943108165015003887/bundles/${bundle}?type=transaction`, 200],
    [
      'a revoke to balance without offerId',
      'DELETE',
      `/esims/8943108165015003887/bundles/${bundle}?refundToBalance=true`,
      400,
    ],
    ['a revoke of a bundle not on the eSIM', 'DELETE', '/esims/8943108165015003887/bundles/esim_50GB_30D_US_V2', 403],
    // Revoke specific bundle (one assignment). In order: the second revoke of 302 finds it revoked.
    [
      'a validate revoke of one assignment',
      'DELETE',
      `/esims/8944538532008160222/bundles/${bundle}/assignments/301?type=validate`,
      200,
    ],
    [
      'a revoke of one assignment',
      'DELETE',
      '/esims/8944538532008160222/bundles/esim_3GB_30D_EU_V2/assignments/302?type=transaction',
      200,
    ],
    [
      'a second revoke of that assignment',
      'DELETE',
      '/esims/8944538532008160222/bundles/esim_3GB_30D_EU_V2/assignments/302?type=transaction',
      403,
    ],
    [
      'a revoke of an assignment not on that bundle',
      'DELETE',
      `/esims/8944538532008160222/bundles/${bundle}/assignments/302`,
      403,
    ],
    [
      'a revoke of one assignment of a bundle not on the eSIM',
      'DELETE',
      '/esims/8944538532008160222/bundles/esim_50GB_30D_US_V2/assignments/301',
      403,
    ],
    [
      'a revoke of one assignment on an unknown eSIM',
      'DELETE',
      `/esims/8900000000000000000/bundles/${bundle}/assignments/301`,
      403,
    ],
    [
      'a revoke of one assignment with a bad type',
      'DELETE',
      `/esims/8944538532008160222/bundles/${bundle}/assignments/301?type=commit`,
      400,
    ],
    [
      'a revoke of one assignment to balance without offerId',
      'DELETE',
      `/esims/8944538532008160222/bundles/${bundle}/assignments/301?refundToBalance=true`,
      400,
    ],
  ];

  it.each(scenarios)('%s validates against the spec', async (_label, method, path, status) => {
    const answer = await call(method, path);
    expect(answer.status).toBe(status);
    const operation = specPathFor(method, path.split('?')[0] ?? path)?.[1];
    const schema = operation?.responses[String(status)]?.content?.['application/json']?.schema;
    expect(schema, `the spec documents ${status} for ${method} ${path}`).toBeDefined();
    const validate = ajv.compile(closed(schema as Schema));
    expect(validate(answer.body), JSON.stringify(validate.errors)).toBe(true);
  });

  it('answers a wrong API key with 403 and the Message schema', async () => {
    const answer = await call('GET', '/esims/8943108165015003887', 'wrong-key');
    expect(answer.status).toBe(403);
    expect(ajv.compile(closed(spec.components.schemas.Message as Schema))(answer.body)).toBe(true);
  });
});

describe('eSIM Go client requests', () => {
  it('use documented paths, methods, parameters and values, and always carry X-API-Key', async () => {
    simulator.reset();
    const client = new EsimGoClient({
      baseUrl: simulator.server.url,
      timeoutMs: 2000,
      apiKey: async () => ESIM_GO_SANDBOX_API_KEY,
      limiter: new RateLimiter(10),
    });
    await client.getEsim('8944538532008160222');
    await client.listBundles('8944538532008160222');
    await client.revokeBundle({ iccid: '8944538532008160222', name: 'esim_1GB_7D_GB_V2', type: 'validate' });
    await client.revokeBundle({
      iccid: '8944538532008160222',
      name: 'esim_1GB_7D_GB_V2',
      type: 'transaction',
      refundToBalance: true,
      offerId: '301',
    });
    expect(simulator.server.calls).toHaveLength(4);
    for (const recorded of simulator.server.calls) {
      const found = specPathFor(recorded.method, recorded.path);
      expect(found, `${recorded.method} ${recorded.path} is in the spec`).toBeDefined();
      const [, operation] = found as [string, Operation];
      for (const [name, value] of Object.entries(recorded.query)) {
        const parameter = operation.parameters?.find(
          (candidate) => candidate.in === 'query' && candidate.name === name,
        );
        expect(
          parameter,
          `${name} is a documented query parameter of ${recorded.method} ${recorded.path}`,
        ).toBeDefined();
        if (parameter?.schema?.enum !== undefined) expect(parameter.schema.enum).toContain(value);
        if (parameter?.schema?.type === 'boolean') expect(['true', 'false']).toContain(value);
      }
      expect(recorded.authorized).toBe(true);
    }
  });

  it('knows the spec quirk it works around: the revoke names an undefined security scheme', () => {
    const security = raw.paths['/esims/{iccid}/bundles/{name}']?.delete?.security ?? [];
    const schemes = security.flatMap((requirement) => Object.keys(requirement));
    expect(schemes).toContain('apiKeyAuth');
    expect(Object.keys(raw.components.securitySchemes)).not.toContain('apiKeyAuth');
  });

  const ASSIGNMENT_PATH = '/esims/{iccid}/bundles/{name}/assignments/{assignmentId}';

  it('finds revoke specific bundle in the spec: DELETE, its path and query parameters, a defined security scheme, no 404', () => {
    const operation = raw.paths[ASSIGNMENT_PATH]?.delete;
    expect(operation, `DELETE ${ASSIGNMENT_PATH} is in the spec`).toBeDefined();
    const parameters = (operation?.parameters ?? []) as Array<{ in: string; name: string; required?: boolean }>;
    expect(
      parameters
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => [parameter.name, parameter.required]),
    ).toEqual([
      ['iccid', true],
      ['name', true],
      ['assignmentId', true],
    ]);
    expect(parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name)).toEqual([
      'type',
    ]);
    const schemes = (operation?.security ?? []).flatMap((requirement) => Object.keys(requirement));
    expect(schemes).toEqual(['apikeyAuth']);
    expect(Object.keys(raw.components.securitySchemes)).toContain('apikeyAuth');
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(['200', '400', '403', '429', '500', '503']);
  });

  it('revokeAssignment uses the documented path, method, type values and X-API-Key', async () => {
    simulator.reset();
    const client = new EsimGoClient({
      baseUrl: simulator.server.url,
      timeoutMs: 2000,
      apiKey: async () => ESIM_GO_SANDBOX_API_KEY,
      limiter: new RateLimiter(10),
    });
    expect(
      await client.revokeAssignment({
        iccid: '8944538532008160222',
        name: 'esim_3GB_30D_EU_V2',
        assignmentId: '302',
        type: 'validate',
      }),
    ).toMatchObject({ kind: 'succeeded' });
    expect(
      await client.revokeAssignment({
        iccid: '8944538532008160222',
        name: 'esim_3GB_30D_EU_V2',
        assignmentId: '302',
        type: 'transaction',
      }),
    ).toMatchObject({ kind: 'succeeded' });
    expect(simulator.server.calls).toHaveLength(2);
    for (const recorded of simulator.server.calls) {
      const found = specPathFor(recorded.method, recorded.path);
      expect(found?.[0], `${recorded.method} ${recorded.path} is revoke specific bundle`).toBe(ASSIGNMENT_PATH);
      const [, operation] = found as [string, Operation];
      for (const [name, value] of Object.entries(recorded.query)) {
        const parameter = operation.parameters?.find(
          (candidate) => candidate.in === 'query' && candidate.name === name,
        );
        expect(
          parameter,
          `${name} is a documented query parameter of ${recorded.method} ${recorded.path}`,
        ).toBeDefined();
        // The spec gives `type` no enum here, only its description: validate or transaction.
        if (name === 'type') expect(['validate', 'transaction']).toContain(value);
      }
      expect(recorded.authorized).toBe(true);
    }
  });

  it('knows the spec gap it accepts: v2.4 documents neither refundToBalance nor offerId on revoke specific bundle, yet the client passes them', async () => {
    const documented = (raw.paths[ASSIGNMENT_PATH]?.delete?.parameters ?? []).map((parameter) => parameter.name);
    expect(documented).not.toContain('refundToBalance');
    expect(documented).not.toContain('offerId');
    simulator.reset();
    const client = new EsimGoClient({
      baseUrl: simulator.server.url,
      timeoutMs: 2000,
      apiKey: async () => ESIM_GO_SANDBOX_API_KEY,
      limiter: new RateLimiter(10),
    });
    await client.revokeAssignment({
      iccid: '8944538532008160222',
      name: 'esim_1GB_7D_GB_V2',
      assignmentId: '301',
      type: 'transaction',
      refundToBalance: true,
      offerId: '301',
    });
    expect(simulator.server.calls.map((recorded) => recorded.query)).toEqual([
      { type: 'transaction', refundToBalance: 'true', offerId: '301' },
    ]);
  });
});

describe('eSIM Go client outcomes', () => {
  it('tells a wrong API key (403 "invalid token") from a real 403: credentials refused, nothing processed, never a final refusal', async () => {
    const client = new EsimGoClient({
      baseUrl: simulator.server.url,
      timeoutMs: 2000,
      apiKey: async () => 'wrong-key',
      limiter: new RateLimiter(10),
    });
    const read = await client.getEsim('8943108165015003887');
    expect(read).toMatchObject({
      ok: false,
      outcome: { kind: 'not_sent', credentialsRefused: true, reason: expect.stringMatching(/API key/) },
    });
    const write = await client.revokeBundle({
      iccid: '8943108165015003887',
      name: 'esim_1GB_7D_GB_V2',
      type: 'transaction',
    });
    expect(write).toMatchObject({ kind: 'not_sent', credentialsRefused: true });
    // With the right key, a 403 for an eSIM that is not accessible stays a definitive rejection.
    const right = new EsimGoClient({
      baseUrl: simulator.server.url,
      timeoutMs: 2000,
      apiKey: async () => ESIM_GO_SANDBOX_API_KEY,
      limiter: new RateLimiter(10),
    });
    expect(await right.getEsim('8944000000000000019')).toMatchObject({
      ok: false,
      outcome: { kind: 'rejected', upstream: { status: 403 }, message: expect.stringMatching(/not accessible/) },
    });
  });
});
