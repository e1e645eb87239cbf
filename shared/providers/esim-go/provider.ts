/** eSIM Go v2.4: its settings, secret, limits, client and sandbox, in one descriptor. */
import type * as sandbox from '../../../sandbox/esim-go/index.js';
import * as z from '../../zod.js';
import { apiKeySecret, defineProvider, sandboxAt } from '../provider.js';

export const esimGo = defineProvider({
  name: 'esim-go',
  label: 'eSIM Go',
  envPrefix: 'ESIM_GO',
  settings: {
    BASE_URL: z.url().default('https://api.esim-go.com/v2.4'),
    SECRET_ARN: z.string().optional(),
    API_KEY: z.string().optional(),
    /**
     * eSIM Go's 10 requests per second per IP, for everything that calls it: counted in this process, or deployed in
     * DynamoDB across every container (RATE_LIMIT_SCOPE), so a fleet behind one IP (a NAT) stays under it too.
     */
    REQUESTS_PER_SECOND: z.coerce.number().int().positive().default(10),
  },
  secret: apiKeySecret,
  // 10 containers split between eSIM Go's two functions (5 each: both queue mappings take at most 4, leaving one for
  // HTTP), sharing the 10 requests/s. A revoke makes 3 requests (two reads at once, then the write): three revokes per
  // invocation keep a batch on one operation (two invocations at once) at the limit, each call waiting a window or two.
  limits: { containers: 10, queueConcurrency: 2, recordsPerBatch: 3, requestsPerSecond: 10 },
  clientMarker: 'includeUsed',
  createClient: async ({ settings, timeoutMs, credentials, limiter }) =>
    new (await import('./client.js')).EsimGoClient({
      baseUrl: settings.BASE_URL,
      timeoutMs,
      apiKey: credentials,
      limiter,
    }),
  sandbox: sandboxAt<typeof sandbox>(new URL('../../../sandbox/esim-go/index.ts', import.meta.url)),
});
