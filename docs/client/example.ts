/**
 * A typed client for the gateway, from the OpenAPI document: openapi-fetch with the types openapi-typescript
 * generates (`npm run openapi`). Paths, parameters, bodies and answers are all checked by the compiler.
 * test/e2e/typed-client.test.ts runs this against `npm start`.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

export const gatewayClient = (baseUrl: string, fetchImpl: typeof fetch = fetch) => createClient<paths>({ baseUrl, fetch: fetchImpl });

/** Previews, then cancels, a Monogoto matching ID; the same key makes the second call a replay. */
export const cancelMatchingId = async (baseUrl: string, iccid: string, matchingId: string, idempotencyKey: string) => {
  const client = gatewayClient(baseUrl);
  const preview = await client.POST('/v1/monogoto/esims/{iccid}/cancel', {
    params: { path: { iccid }, query: { dryRun: 'true' } },
    body: { matchingId },
  });
  const done = await client.POST('/v1/monogoto/esims/{iccid}/cancel', {
    params: { path: { iccid }, header: { 'Idempotency-Key': idempotencyKey } },
    body: { matchingId },
  });
  // `data` is the typed success body, `error` the typed problem.
  return { previewStatus: preview.data?.status, status: done.data?.status, operationId: done.data?.operationId, problem: done.error?.type };
};
