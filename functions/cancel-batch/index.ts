/** POST /v1/batches/{batchId}/cancel: stops the items not yet started (shared/batches/http.ts). */
import { cancelBatchAnswer } from '../../shared/batches/http.js';
import { readerHandler } from '../../shared/history/http.js';

export const handler = readerHandler(cancelBatchAnswer);
