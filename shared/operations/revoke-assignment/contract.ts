/** eSIM Go: revoke one named assignment of a bundle ("Revoke specific Bundle"). The public contract, as pure data. */
import * as z from '../../zod.js';
import { defineContract } from '../definition.js';
import { iccidField, required } from '../fields.js';
import { bundleNameField, offerIdRule, revokeQuery } from '../revoke-bundle/contract.js';

const SANDBOX_ICCID = '8943108165015003887';

export const revokeAssignmentContract = defineContract({
  name: 'revoke-assignment',
  eventName: 'Revoke Assignment',
  provider: 'esim-go',
  summary: 'Revoke one named assignment of a bundle applied to an eSIM Go eSIM, with refund and returns-process checks',
  // The two reads in parallel, then the revoke.
  maxSequentialCalls: 2,
  followUps: ['refund', 'esim-return'],
  target: ({ iccid, name, assignmentId }) => `iccid:${iccid}/bundle:${name}/assignment:${assignmentId}`,
  route: { method: 'DELETE', path: '/v1/esim-go/esims/{iccid}/bundles/{name}/assignments/{assignmentId}' },
  request: {
    path: z.strictObject({
      iccid: iccidField,
      name: bundleNameField,
      assignmentId: z
        .string({ error: required('a string') })
        .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1-64 characters of A-Z, a-z, 0-9, _ and -' }),
    }),
    query: revokeQuery,
  },
  refine: offerIdRule,
  example: {
    iccid: SANDBOX_ICCID,
    name: 'esim_1GB_7D_GB_V2',
    assignmentId: '245',
    type: 'transaction',
    dryRun: false,
    allowEsimReturn: false,
  },
  tryIt: [
    {
      say: 'Preview revoking one named assignment (here the newer one, which a revoke by name would not take):',
      input: { iccid: SANDBOX_ICCID, name: 'esim_1GB_7D_GB_V2', assignmentId: '245', dryRun: true },
    },
    {
      say: 'Revoke it:',
      input: { iccid: SANDBOX_ICCID, name: 'esim_1GB_7D_GB_V2', assignmentId: '245' },
      idempotencyKey: 'try-assignment-1',
    },
  ],
});
