/** DELETE /v1/esim-go/esims/{iccid}/bundles/{name}/assignments/{assignmentId}, and the operation's SQS queues. */
import { createOperationHandler } from '../../shared/handler.js';
import { revokeAssignment } from '../../shared/operations/revoke-assignment/index.js';

export const handler = createOperationHandler(revokeAssignment);
