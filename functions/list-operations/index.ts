/**
 * GET /v1/operations: the caller's operations, newest first, a page at a time (shared/history/operations.ts). Only the
 * caller's own: the index partition is the caller, so anyone else's operations do not exist here.
 */
import { listOperations } from '../../shared/history/operations.js';
import { parseQuery, readerHandler } from '../../shared/history/http.js';
import { historyQuerySchema } from '../../shared/history/schemas.js';
import { callerIdentity } from '../../shared/http/request.js';
import { jsonResponse } from '../../shared/http/response.js';

export const handler = readerHandler(async (event) =>
  jsonResponse(200, await listOperations(callerIdentity(event), parseQuery(event, historyQuerySchema))),
);
