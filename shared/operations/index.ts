/**
 * Every operation the gateway offers. Only tooling reads this list (CDK, local runner, docs); a Lambda
 * handler imports its own definition so no provider's client ends up in another provider's bundle.
 */
import { cancelActivation } from './cancel-activation/index.js';
import { cancelEsim } from './cancel-esim/index.js';
import type { OperationDefinition } from './definition.js';
import { revokeBundle } from './revoke-bundle/index.js';

export const operations: readonly OperationDefinition[] = [cancelEsim, revokeBundle, cancelActivation];
