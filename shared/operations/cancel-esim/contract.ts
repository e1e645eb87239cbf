/** Monogoto: cancel the current matching ID of a released eSIM. The public contract, as pure data. */
import * as z from '../../zod.js';
import { defineContract } from '../definition.js';
import { dryRunField, iccidField, required } from '../fields.js';

const path = z.strictObject({ iccid: iccidField });
const query = z.strictObject({ dryRun: dryRunField });
const body = z.strictObject({
  matchingId: z
    .string({ error: required('a string') })
    .regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'must be 1-64 characters of A-Z, a-z, 0-9 and -' }),
});

export const cancelEsimContract = defineContract({
  name: 'cancel-esim',
  eventName: 'Cancel eSIM',
  provider: 'monogoto',
  summary: "Cancel a Monogoto eSIM's current matching ID (the eSIM must be released)",
  // A cached token refused (401), one login, the cancel again.
  maxSequentialCalls: 3,
  target: ({ iccid }) => `iccid:${iccid}`,
  route: { method: 'POST', path: '/v1/monogoto/esims/{iccid}/cancel' },
  request: { path, query, body },
  example: { iccid: '8944000000000000019', matchingId: 'DDYSX7MJYEKHIXYGK3PU5GEQ', dryRun: false },
  tryIt: [
    {
      say: 'Cancel a matching ID (run it twice: the second answer is a replay with Idempotent-Replayed: true):',
      input: { iccid: '8944000000000000019', matchingId: 'DDYSX7MJYEKHIXYGK3PU5GEQ' },
      idempotencyKey: 'try-it-1',
    },
    {
      say: 'Preview it without changing anything:',
      input: { iccid: '8944000000000000019', matchingId: 'DDYSX7MJYEKHIXYGK3PU5GEQ', dryRun: true },
    },
  ],
});
