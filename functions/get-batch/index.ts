/** GET /v1/batches/{batchId}: a batch's status, counts and preview (shared/batches/http.ts). */
import { getBatchAnswer } from '../../shared/batches/http.js';
import { readerHandler } from '../../shared/history/http.js';

export const handler = readerHandler(getBatchAnswer);
