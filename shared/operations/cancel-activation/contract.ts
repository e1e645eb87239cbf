/** sTN: cancel a pending new-subscription activation. The public contract, as pure data. */
import * as z from '../../zod.js';
import { defineContract } from '../definition.js';
import { dryRunField, required } from '../fields.js';

/** sTN's backend is .NET, which counts string length in UTF-16 code units, as JavaScript's `length` does. */
export const NOTE_MAX_UTF16_UNITS = 164;

const path = z.strictObject({
  activationId: z
    .string({ error: required('a string') })
    .regex(/^\S{1,64}$/, { error: 'must be 1-64 characters without whitespace' }),
});
const query = z.strictObject({ dryRun: dryRunField });
const body = z.strictObject({
  // A refine on `.length` rather than zod's max(), which does not count the way .NET does.
  note: z
    .string({ error: 'must be a string' })
    .refine((note) => note.length <= NOTE_MAX_UTF16_UNITS, {
      error: `must be at most ${NOTE_MAX_UTF16_UNITS} characters (counted in UTF-16 code units, as sTN does)`,
    })
    .optional(),
});

export const cancelActivationContract = defineContract({
  name: 'cancel-activation',
  eventName: 'Cancel Activation',
  provider: 'stn',
  summary: 'Cancel a pending sTN new-subscription activation',
  // Reconciliation's QueryActivation, then the cancel.
  maxSequentialCalls: 2,
  followUps: ['settle'],
  target: ({ activationId }) => `activation:${activationId}`,
  route: { method: 'POST', path: '/v1/stn/activations/{activationId}/cancel' },
  request: { path, query, body },
  example: { activationId: 'q7LmXw2RgxhI5Zvz', note: 'Customer changed their mind', dryRun: false },
  tryIt: [
    {
      say: 'Preview cancelling a pending activation (reads its status):',
      input: { activationId: 'q7LmXw2RgxhI5Zvz', dryRun: true },
    },
    {
      say: 'Cancel it (sTN answers CANCELLING, so the gateway answers status "in_progress"):',
      input: { activationId: 'q7LmXw2RgxhI5Zvz', note: 'Customer changed their mind' },
      idempotencyKey: 'try-stn-1',
    },
    {
      say: "A completed activation cannot be cancelled (422 with sTN's message):",
      input: { activationId: 'Dn3KpT8vYc1WsQe4' },
      idempotencyKey: 'try-stn-2',
    },
  ],
});
