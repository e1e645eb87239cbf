/** sTN Partner API: its settings, secret, limits, client and sandbox, in one descriptor. */
import type * as sandbox from '../../../sandbox/stn/index.js';
import * as z from '../../zod.js';
import { apiKeySecret, defineProvider, sandboxAt } from '../provider.js';

export const stn = defineProvider({
  name: 'stn',
  label: 'sTN',
  envPrefix: 'STN',
  settings: {
    /** No default: sTN gives each partner its base URL. */
    BASE_URL: z.url(),
    SECRET_ARN: z.string().optional(),
    API_KEY: z.string().optional(),
  },
  secret: apiKeySecret,
  // sTN publishes no rate: 5 containers, and a 429 is answered 503 with Retry-After (and retried on queues).
  limits: { containers: 5, queueConcurrency: 2, recordsPerBatch: 5 },
  clientMarker: 'CancelNewSubscription',
  createClient: async ({ settings, timeoutMs, credentials }) =>
    new (await import('./client.js')).StnClient({ baseUrl: settings.BASE_URL, timeoutMs, apiKey: credentials }),
  sandbox: sandboxAt<typeof sandbox>(new URL('../../../sandbox/stn/index.ts', import.meta.url)),
});
