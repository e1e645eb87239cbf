/**
 * Fuzzing every operation route (a few hundred cases each in `npm test`; `npm run soak` runs 10,000 per route).
 * Also runs the same property against a deliberately broken variant (validation switched off) to show it bites.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOperationHandler } from '../../shared/handler.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { loadDefinitions } from '../../testkit/operations.js';
import { fuzzCase, holds, sendFuzzCase } from '../../testkit/reliability/fuzz.js';
import type { SimulatorServer } from '../../sandbox/server.js';
import { variable } from '../../shared/providers/provider.js';
import { providers } from '../../shared/providers/registry.js';
import { type Handler, configureEnvironment, newTable, startRunningSandbox } from '../../testkit/harness.js';

const operations = await loadDefinitions();

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
let servers: SimulatorServer[] = [];

beforeAll(async () => {
  // Every provider's sandbox, its rate limit out of the way: the property is about validation, not throttling.
  const sandboxes = await Promise.all(
    providers.map((provider) => startRunningSandbox(provider, { requestsPerSecond: 100_000 })),
  );
  servers = sandboxes.map((sandbox) => sandbox.server);
  configureEnvironment({
    IDEMPOTENCY_TABLE_NAME: await newTable(inject('dynamoEndpoint')),
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    UPSTREAM_TIMEOUT_MS: '2000',
    ...Object.fromEntries(
      providers
        .filter((provider) => 'REQUESTS_PER_SECOND' in provider.settings)
        .map((provider) => [variable(provider, 'REQUESTS_PER_SECOND'), '10000']),
    ),
  });
});
afterAll(async () => Promise.all(servers.map((server) => server.stop())));

describe('fuzzing', () => {
  it.each(operations.map((definition) => [definition.name, definition] as const))(
    '%s answers 200 or a 4xx problem, never a 5xx, and never calls the provider for invalid input',
    { timeout: 300_000 },
    async (_name, definition) => {
      const handler = createOperationHandler(definition) as unknown as Handler;
      await fc.assert(
        fc.asyncProperty(fuzzCase, async (input) => holds(await sendFuzzCase(definition, handler, servers, input))),
        { numRuns: RUNS, seed: 20261126 },
      );
    },
  );

  it(
    'catches a gateway whose validation is switched off (the property is not vacuous)',
    { timeout: 120_000 },
    async () => {
      const definition = operations.find((candidate) => candidate.name === 'cancel-activation') as OperationDefinition;
      const permissive = z.looseObject({});
      const broken = {
        ...definition,
        request: { path: permissive, query: permissive, body: permissive },
      } as unknown as OperationDefinition;
      const handler = createOperationHandler(broken) as unknown as Handler;
      const result = await fc.check(
        fc.asyncProperty(fuzzCase, async (input) =>
          holds(await sendFuzzCase(broken, handler, servers, input, definition)),
        ),
        { numRuns: 100, seed: 7 },
      );
      expect(result.failed).toBe(true);
    },
  );
});
