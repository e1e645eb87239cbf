/**
 * Every operation's contract: the pure data CDK, the OpenAPI document and the routes are built from. Importing it
 * loads no provider client and no operation behaviour.
 */
import { cancelActivationContract } from './cancel-activation/contract.js';
import { cancelEsimContract } from './cancel-esim/contract.js';
import type { OperationContract } from './definition.js';
import { revokeAssignmentContract } from './revoke-assignment/contract.js';
import { revokeBundleContract } from './revoke-bundle/contract.js';

export const contracts: readonly OperationContract[] = [
  cancelEsimContract,
  revokeBundleContract,
  revokeAssignmentContract,
  cancelActivationContract,
];
