/** Monogoto: cancel the current matching ID of a released eSIM (POST /api/v1/eSIM/cancel). */
import { z } from 'zod';
import { monogotoClient } from '../providers/monogoto/index.js';
import { defineOperation } from './definition.js';
import { dryRunField, iccidField } from './fields.js';

const path = z.strictObject({ iccid: iccidField });
const query = z.strictObject({ dryRun: dryRunField });
const body = z.strictObject({
  matchingId: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'must be 1-64 characters of A-Z, a-z, 0-9 and -' }),
});

export const cancelEsim = defineOperation({
  name: 'cancel-esim',
  provider: 'monogoto',
  summary: "Cancel a Monogoto eSIM's current matching ID (the eSIM must be released)",
  route: { method: 'POST', path: '/v1/monogoto/esims/{iccid}/cancel' },
  request: { path, query, body },
  input: path.extend(query.shape).extend(body.shape),
  isDryRun: (input) => input.dryRun,
  execute: async ({ iccid, matchingId }) => (await monogotoClient()).cancelEsim({ iccid, matchingId }),
  // Monogoto has no read API for eSIM state, so a dry run can only confirm the input and show the request.
  dryRun: async ({ iccid, matchingId }) => ({
    preview: { request: { method: 'POST', path: '/api/v1/eSIM/cancel', body: { iccid, matchingId } } },
    upstream: null,
  }),
});
