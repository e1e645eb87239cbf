/** GET /v1/batches/{batchId}/items: the per-item report (JSON pages or CSV) (shared/batches/http.ts). */
import { batchItemsAnswer } from '../../shared/batches/http.js';
import { readerHandler } from '../../shared/history/http.js';

export const handler = readerHandler(batchItemsAnswer);
