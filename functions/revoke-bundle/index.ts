/** DELETE /v1/esim-go/esims/{iccid}/bundles/{name}, and the operation's SQS queue: all behaviour lives in the operation definition and shared/. */
import { createOperationHandler } from '../../shared/handler.js';
import { revokeBundle } from '../../shared/operations/revoke-bundle/index.js';

export const handler = createOperationHandler(revokeBundle);
