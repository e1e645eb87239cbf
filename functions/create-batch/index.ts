/** POST /v1/batches: a batch of one operation over many items, validated and previewed (shared/batches/http.ts). */
import { createBatchAnswer } from '../../shared/batches/http.js';
import { readerHandler } from '../../shared/history/http.js';

export const handler = readerHandler(createBatchAnswer);
