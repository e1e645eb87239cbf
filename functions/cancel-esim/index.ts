/** POST /v1/monogoto/esims/{iccid}/cancel, and the operation's SQS queue: all behaviour lives in the operation definition and shared/. */
import { createOperationHandler } from '../../shared/handler.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';

export const handler = createOperationHandler(cancelEsim);
