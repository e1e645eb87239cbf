/**
 * Fuzzing of every operation route through the local runner's API Gateway event translation and the real handler:
 * random path values, query strings, headers (many, huge), bodies (invalid JSON, huge, deeply nested, binary,
 * unicode, `__proto__`/`constructor` keys, wrong types, extra fields) and idempotency keys (quoted, unquoted, invalid).
 * The property: every answer is a 200 or a 4xx problem+json, never a 5xx or a crash, and an input refused as invalid
 * (400/413/415) never reached the provider.
 */
import fc from 'fast-check';
import { lambdaContext, matchResource, toApiGatewayEvent } from '../../infra/local/apigw-event.js';
import { parseRequest } from '../../shared/http/request.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import type { SimulatorServer } from '../../sandbox/server.js';
import type { Handler } from '../harness.js';

const segment = fc.oneof(
  fc.stringMatching(/^89\d{17,18}$/),
  fc.string({ maxLength: 40 }).map((text) => encodeURIComponent(text) || 'x'),
  fc.constantFrom(
    '8944000000000000019',
    '8943108165015003887',
    'q7LmXw2RgxhI5Zvz',
    'esim_1GB_7D_GB_V2',
    '%00',
    '..',
    'a%20b',
  ),
);
const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', 'validate', 'transaction', '', 'TRUE'),
  fc.string({ maxLength: 30 }),
);
const queryName = fc.oneof(
  fc.constantFrom(
    'dryRun',
    'type',
    'refundToBalance',
    'offerId',
    'allowEsimReturn',
    'dryrun',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 12 }),
);
/** Deeply nested JSON built as text (building it as objects would overflow the stack first). */
const deepJson = (depth: number): string => `${'{"nested":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`;
const jsonValue = fc.jsonValue({ maxDepth: 4 });
const body = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  jsonValue.map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        matchingId: fc.oneof(fc.string({ maxLength: 70 }), jsonValue),
        note: fc.oneof(fc.string({ maxLength: 200 }), jsonValue),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.constantFrom(
    '{"__proto__":{"polluted":true},"matchingId":"A"}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"matchingId":"A","matchingId":"B"}',
    '{"note":null}',
    '[]',
    'null',
    '{',
  ),
  fc.integer({ min: 100, max: 5000 }).map(deepJson),
  fc
    .integer({ min: 16 * 1024 - 50, max: 40 * 1024 })
    .map((size) => JSON.stringify({ matchingId: 'A', note: 'x'.repeat(size) })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);
const idempotencyKey = fc.oneof(
  fc.constant(undefined),
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ minLength: 1, maxLength: 20 }).map((key) => `"${key}"`),
  fc.constant('x'.repeat(300)),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const headers = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/), fc.string({ maxLength: 100 }), {
  maxKeys: 60,
});
const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/vnd.api+json',
  '',
);

export const fuzzCase = fc.record({
  segments: fc.array(segment, { minLength: 2, maxLength: 2 }),
  query: fc.array(fc.tuple(queryName, queryValue), { maxLength: 6 }),
  headers,
  hugeHeader: fc.boolean(),
  body,
  idempotencyKey,
  contentType,
  base64: fc.boolean(),
});
export type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

export interface FuzzOutcome {
  status: number;
  contentType: string;
  providerCalls: number;
  /** Whether the contract's input rules (the reference definition's schemas) accept the request. */
  validInput: boolean;
}

/** Sends one fuzzed request to a route's handler and reports what happened. */
export const sendFuzzCase = async (
  definition: OperationDefinition,
  handler: Handler,
  simulators: SimulatorServer[],
  input: FuzzCase,
  reference: OperationDefinition = definition,
): Promise<FuzzOutcome> => {
  let parts = 0;
  const path = definition.route.path.replace(/\{\w+\}/g, () => input.segments[parts++] ?? 'x');
  const query = new URLSearchParams(input.query).toString();
  const requestHeaders: Record<string, string> = { ...input.headers, host: 'fuzz.local' };
  if (input.hugeHeader) requestHeaders['x-huge'] = 'h'.repeat(8000);
  if (input.contentType !== undefined) requestHeaders['content-type'] = input.contentType;
  if (input.idempotencyKey !== undefined) requestHeaders['idempotency-key'] = input.idempotencyKey;
  const route = matchResource(definition.route.path, path) ?? { resource: definition.route.path, pathParameters: {} };
  const event = toApiGatewayEvent(
    {
      method: definition.route.method,
      url: query === '' ? path : `${path}?${query}`,
      headers: requestHeaders,
      body: input.body,
      sourceIp: '127.0.0.1',
    },
    route,
  );
  if (input.base64 && event.body !== null) {
    event.body = Buffer.from(event.body, 'latin1').toString('base64');
    event.isBase64Encoded = true;
  }
  let validInput = true;
  try {
    parseRequest(structuredClone(event), reference);
  } catch {
    validInput = false;
  }
  const before = simulators.reduce((sum, simulator) => sum + simulator.calls.length, 0);
  const result = await handler(event, lambdaContext(definition.name, 28_000));
  const after = simulators.reduce((sum, simulator) => sum + simulator.calls.length, 0);
  JSON.parse(result.body);
  return {
    status: result.statusCode,
    contentType: String(result.headers?.['content-type'] ?? ''),
    providerCalls: after - before,
    validInput,
  };
};

/** The property every route must hold. */
export const holds = (outcome: FuzzOutcome): boolean => {
  if (outcome.status >= 500) return false;
  if (outcome.status >= 400 && outcome.contentType !== 'application/problem+json') return false;
  if (outcome.status === 200 && outcome.contentType !== 'application/json') return false;
  if (!outcome.validInput && outcome.providerCalls > 0) return false;
  if (!outcome.validInput && ![400, 413, 415].includes(outcome.status)) return false;
  return true;
};
