/**
 * Every operation the gateway offers. Only tooling reads this list (CDK, local runner, docs); a Lambda
 * handler imports its own definition so no provider's client ends up in another provider's bundle.
 */
import { cancelActivation } from './cancel-activation.js';
import { cancelEsim } from './cancel-esim.js';
import type { OperationDefinition } from './definition.js';
import { revokeBundle } from './revoke-bundle.js';

// Each definition is checked against OperationDefinition where it is written; the list only needs the common view.
export const operations: readonly OperationDefinition[] = [cancelEsim, revokeBundle, cancelActivation].map((definition) => definition as unknown as OperationDefinition);
