/**
 * Idempotency keys for the batch API. The submit key depends only on the file's bytes and the operation, so running
 * the CLI again on the same file resumes the batch it started instead of creating a second one.
 */
import { createHash } from 'node:crypto';

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** 70 printable ASCII characters: within the gateway's 1-255. */
export const submitKey = (csv: Uint8Array, operation: string): string =>
  `batch-${sha256(`${operation}\n${sha256(csv)}`)}`;

export const confirmKey = (batchId: string): string => `${batchId}-confirm`;
