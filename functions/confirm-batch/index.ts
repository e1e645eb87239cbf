/** POST /v1/batches/{batchId}/confirm: runs a previewed batch, each item once (shared/batches/http.ts). */
import { confirmBatchAnswer } from '../../shared/batches/http.js';
import { readerHandler } from '../../shared/history/http.js';

export const handler = readerHandler(confirmBatchAnswer);
