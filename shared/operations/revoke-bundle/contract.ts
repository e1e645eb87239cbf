/** eSIM Go: revoke the oldest unused assignment of a bundle. The public contract, as pure data. */
import * as z from '../../zod.js';
import { defineContract } from '../definition.js';
import { booleanQueryField, dryRunField, iccidField, required } from '../fields.js';

/** eSIM Go's bundle names: case-sensitive, e.g. esim_1GB_7D_GB_V2. */
export const bundleNameField = z.string({ error: required('a string') }).regex(/^[A-Za-z0-9_.-]{1,128}$/, {
  error: 'must be 1-128 characters of A-Z, a-z, 0-9, _, . and - (case-sensitive, e.g. esim_1GB_7D_GB_V2)',
});

/** The query options eSIM Go's revoke calls take, and the gateway's returns-process guard. */
export const revokeQuery = z.strictObject({
  type: z
    .enum(['validate', 'transaction'], { error: 'must be "validate" or "transaction"' })
    .optional()
    .default('transaction'),
  dryRun: dryRunField,
  refundToBalance: booleanQueryField.optional(),
  offerId: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, { error: 'must be 1-128 printable characters without spaces' })
    .optional(),
  allowEsimReturn: booleanQueryField.optional().default(false),
});

export const offerIdRule = (value: { refundToBalance?: unknown; offerId?: unknown }, context: z.RefinementCtx) => {
  if (value.refundToBalance === true && value.offerId === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['offerId'],
      message: 'is required when refundToBalance=true (the assignment id to refund)',
    });
  }
};

const SANDBOX_ICCID = '8943108165015003887';

export const revokeBundleContract = defineContract({
  name: 'revoke-bundle',
  eventName: 'Revoke Bundle',
  provider: 'esim-go',
  summary:
    'Revoke the oldest unused assignment of a bundle applied to an eSIM Go eSIM, with refund and returns-process checks',
  // The two reads in parallel (one round; a 503 "processing" is waited out within it), then the revoke.
  maxSequentialCalls: 2,
  followUps: ['refund', 'esim-return'],
  target: ({ iccid, name }) => `iccid:${iccid}/bundle:${name}`,
  route: { method: 'DELETE', path: '/v1/esim-go/esims/{iccid}/bundles/{name}' },
  request: { path: z.strictObject({ iccid: iccidField, name: bundleNameField }), query: revokeQuery },
  refine: offerIdRule,
  example: {
    iccid: SANDBOX_ICCID,
    name: 'esim_1GB_7D_GB_V2',
    type: 'transaction',
    dryRun: false,
    allowEsimReturn: false,
  },
  tryIt: [
    {
      say: 'Preview a bundle revoke (which assignment goes, refund, returns-process risk):',
      input: { iccid: SANDBOX_ICCID, name: 'esim_1GB_7D_GB_V2', dryRun: true },
    },
    {
      say: 'Revoke it (the oldest unused assignment; a second revoke with a new key is refused: it would hand the eSIM back):',
      input: { iccid: SANDBOX_ICCID, name: 'esim_1GB_7D_GB_V2' },
      idempotencyKey: 'try-revoke-1',
    },
  ],
});
