/** POST /v1/stn/activations/{activationId}/cancel: all behaviour lives in the operation definition and shared/http. */
import { createHttpHandler } from '../../shared/http/handler.js';
import { cancelActivation } from '../../shared/operations/cancel-activation.js';

export const handler = createHttpHandler(cancelActivation);
