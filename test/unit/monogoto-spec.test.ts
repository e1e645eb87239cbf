/**
 * The Monogoto simulator and client agree with Monogoto's published schema fragment
 * (test/fixtures/monogoto-esim-cancel.openapi.json, copied from docs.monogoto.io).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cancelRequestSchema,
  esimErrorSchema,
  executionResponseSchema,
} from '../../shared/providers/monogoto/schemas.js';
import { MONOGOTO_SANDBOX_CREDENTIALS, createMonogotoSimulator } from '../../sandbox/monogoto/simulator.js';

interface Fragment {
  paths: Record<
    string,
    {
      post: {
        requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
        responses: Record<string, { content: { 'application/json': { schema: object } } }>;
      };
    }
  >;
}
const fragment = JSON.parse(
  readFileSync(new URL('../fixtures/monogoto-esim-cancel.openapi.json', import.meta.url), 'utf8'),
) as Fragment;
const operation = fragment.paths['/api/v1/eSIM/cancel']?.post;
if (operation === undefined) throw new Error('fragment has the cancel operation');

// Closed versions of the fragment's schemas: the fragment does not forbid extra fields, a faithful fake should not add any.
const closed = (schema: object): object =>
  JSON.parse(JSON.stringify(schema), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as { type?: string }).type === 'object'
      ? { ...value, additionalProperties: false }
      : value,
  ) as object;
const ajv = new Ajv({ strict: false });
const responseValidator = (status: string) => {
  const response = operation.responses[status];
  if (response === undefined) throw new Error(`fragment documents ${status}`);
  return ajv.compile(closed(response.content['application/json'].schema));
};

const simulator = createMonogotoSimulator();
let token = '';
const post = async (path: string, body: unknown) => {
  const response = await fetch(`${simulator.server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
};

beforeAll(async () => {
  await simulator.server.start();
  token = ((await post('/v1/auth/token', MONOGOTO_SANDBOX_CREDENTIALS)).body as { access_token: string }).access_token;
});
afterAll(async () => simulator.server.stop());

describe('Monogoto simulator against the published fragment', () => {
  it('answers a successful cancel in the documented 200 shape', async () => {
    const esim = simulator.esims().find((candidate) => candidate.state === 'released');
    const answer = await post('/api/v1/eSIM/cancel', { iccid: esim?.iccid, matchingId: esim?.matchingId });
    expect(answer.status).toBe(200);
    const validate = responseValidator('200');
    expect(validate(answer.body), JSON.stringify(validate.errors)).toBe(true);
    expect(executionResponseSchema.safeParse(answer.body).success).toBe(true);
  });

  it.each([
    ['an invalid ICCID', { iccid: '123', matchingId: 'X' }],
    ['a missing matchingId', { iccid: '8944000000000000019' }],
    ['an eSIM that is not released', { iccid: '8944000000000000043', matchingId: 'X' }],
  ])('answers %s with the documented 400 shape', async (_label, body) => {
    const answer = await post('/api/v1/eSIM/cancel', body);
    expect(answer.status).toBe(400);
    expect(responseValidator('400')(answer.body)).toBe(true);
    expect(esimErrorSchema.safeParse(answer.body).success).toBe(true);
  });

  it('injected 500s use the documented 500 shape', async () => {
    simulator.server.injectFault({ kind: 'status', status: 500, path: '/api/v1/eSIM/cancel' });
    const answer = await post('/api/v1/eSIM/cancel', { iccid: '8944000000000000019', matchingId: 'X' });
    expect(answer.status).toBe(500);
    expect(responseValidator('500')(answer.body)).toBe(true);
  });

  it('the client sends exactly the fields the fragment defines', () => {
    expect(Object.keys(cancelRequestSchema.shape).sort()).toEqual(
      Object.keys(operation.requestBody.content['application/json'].schema.properties).sort(),
    );
  });
});
