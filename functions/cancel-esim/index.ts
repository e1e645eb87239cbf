/** POST /v1/monogoto/esims/{iccid}/cancel: all behaviour lives in the operation definition and shared/http. */
import { createHttpHandler } from '../../shared/http/handler.js';
import { cancelEsim } from '../../shared/operations/cancel-esim.js';

export const handler = createHttpHandler(cancelEsim);
