/** eSIM Go v2.4: its settings, secret, limits, client and sandbox, in one descriptor. */
import type * as sandbox from '../../../sandbox/esim-go/index.js';
import * as z from '../../zod.js';
import { apiKeySecret, defineProvider, sandboxAt } from '../provider.js';
import { RateLimiter } from '../rate-limit.js';

export const esimGo = defineProvider({
  name: 'esim-go',
  label: 'eSIM Go',
  envPrefix: 'ESIM_GO',
  settings: {
    BASE_URL: z.url().default('https://api.esim-go.com/v2.4'),
    SECRET_ARN: z.string().optional(),
    API_KEY: z.string().optional(),
    /** This container's share of eSIM Go's 10 requests per second per IP (the stack sets each function's share). */
    REQUESTS_PER_SECOND: z.coerce.number().int().positive().default(10),
  },
  secret: apiKeySecret,
  // 10 requests/s per IP for the whole fleet: 10 containers × 1 request/s, split between eSIM Go's two functions
  // (5 each: both queue mappings take at most 4, leaving one for HTTP). A revoke makes 3 requests (two reads, one write).
  limits: { containers: 10, queueConcurrency: 2, recordsPerBatch: 1, requestsPerSecond: 10 },
  clientMarker: 'includeUsed',
  createClient: async ({ settings, timeoutMs, credentials }) =>
    new (await import('./client.js')).EsimGoClient({
      baseUrl: settings.BASE_URL,
      timeoutMs,
      apiKey: credentials,
      limiter: new RateLimiter(settings.REQUESTS_PER_SECOND),
    }),
  sandbox: sandboxAt<typeof sandbox>(new URL('../../../sandbox/esim-go/index.ts', import.meta.url)),
});
