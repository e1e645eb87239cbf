/**
 * eSIM Go: revoke one named assignment (DELETE /esims/{iccid}/bundles/{name}/assignments/{assignmentId}), with the
 * revoke by name's care (shared/operations/esim-go-revoke.ts): reads first, the returns-process guard, the lease on the
 * eSIM, and a lost answer reconciled by reading whether that assignment is `revoked`.
 */
import type * as z from '../../zod.js';
import type { RevokePlan } from '../../providers/esim-go/revoke-plan.js';
import { defineOperation } from '../definition.js';
import { esimGoRevoke, revokeRequest } from '../esim-go-revoke.js';
import { revokeAssignmentContract } from './contract.js';

type Input = z.infer<typeof revokeAssignmentContract.input>;

export const revokeAssignment = defineOperation<Input, RevokePlan>(
  revokeAssignmentContract,
  esimGoRevoke((client, input, type, options) =>
    client.revokeAssignment({ ...revokeRequest(input, type), assignmentId: input.assignmentId }, options),
  ),
);
