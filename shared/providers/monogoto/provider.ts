/** Monogoto: its settings, secret, limits, client and sandbox, in one descriptor. */
import type * as sandbox from '../../../sandbox/monogoto/index.js';
import * as z from '../../zod.js';
import { defineProvider, sandboxAt } from '../provider.js';

export const monogoto = defineProvider({
  name: 'monogoto',
  label: 'Monogoto',
  envPrefix: 'MONOGOTO',
  settings: {
    BASE_URL: z.url().default('https://api.monogoto.io'),
    SECRET_ARN: z.string().optional(),
    USERNAME: z.string().optional(),
    PASSWORD: z.string().optional(),
    /** Monogoto's limit for everything that calls it (the stack sets 1: 60 a minute, the Standard plan); unset, none. */
    REQUESTS_PER_SECOND: z.coerce.number().positive().optional(),
  },
  secret: {
    schema: z.object({ username: z.string().min(1), password: z.string().min(1) }),
    template: { username: 'set-me' },
    generatedKey: 'password',
    fromSettings: (settings) =>
      typeof settings.USERNAME === 'string' && typeof settings.PASSWORD === 'string'
        ? { username: settings.USERNAME, password: settings.PASSWORD }
        : undefined,
    plainSettings: ['USERNAME', 'PASSWORD'],
  },
  // The portal API allows 60 requests/min on the Standard plan, 300 on Business; a 429 is answered 503 with Retry-After.
  // One record per invocation: at 1 request/s for the fleet, more at once would wait past half a call's timeout.
  limits: { containers: 5, queueConcurrency: 2, recordsPerBatch: 1, requestsPerSecond: 1 },
  clientMarker: '/v1/auth/token',
  createClient: async ({ settings, timeoutMs, credentials, limiter }) =>
    new (await import('./client.js')).MonogotoClient({ baseUrl: settings.BASE_URL, timeoutMs, credentials, limiter }),
  sandbox: sandboxAt<typeof sandbox>(new URL('../../../sandbox/monogoto/index.ts', import.meta.url)),
});
