/** DELETE /v1/esim-go/esims/{iccid}/bundles/{name}: all behaviour lives in the operation definition and shared/http. */
import { createHttpHandler } from '../../shared/http/handler.js';
import { revokeBundle } from '../../shared/operations/revoke-bundle.js';

export const handler = createHttpHandler(revokeBundle);
