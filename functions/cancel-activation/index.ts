/** POST /v1/stn/activations/{activationId}/cancel, and the operation's SQS queue: all behaviour lives in the operation definition and shared/. */
import { createOperationHandler } from '../../shared/handler.js';
import { cancelActivation } from '../../shared/operations/cancel-activation/index.js';

export const handler = createOperationHandler(cancelActivation);
