/**
 * eSIM Go: revoke an applied bundle (DELETE /esims/{iccid}/bundles/{name}). The most dangerous of the calls: each call
 * revokes one more assignment, so the gateway reads first, predicts exactly which assignment goes and whether the eSIM
 * would be handed back, refuses when it would be unless asked, and only then writes (shared/operations/esim-go-revoke.ts).
 */
import type * as z from '../../zod.js';
import type { RevokePlan } from '../../providers/esim-go/revoke-plan.js';
import { defineOperation } from '../definition.js';
import { esimGoRevoke, revokeRequest } from '../esim-go-revoke.js';
import { revokeBundleContract } from './contract.js';

type Input = z.infer<typeof revokeBundleContract.input>;

export const revokeBundle = defineOperation<Input, RevokePlan>(
  revokeBundleContract,
  esimGoRevoke((client, input, type, options) => client.revokeBundle(revokeRequest(input, type), options)),
);
