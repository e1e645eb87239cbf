/**
 * The batch resource as the API answers it (`GET /v1/batches/{batchId}`), checked on arrival: a contract drift
 * stops the CLI with a clear message instead of polling forever on a status it does not know.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();

export const batchStatus = z.enum(['previewing', 'previewed', 'running', 'completed', 'cancelled']);

export const batchResource = z.object({
  batchId: z.string(),
  operation: z.string(),
  status: batchStatus,
  counts: z.object({
    pending: count,
    succeeded: count,
    in_progress: count,
    rejected: count,
    failed: count,
    invalid: count,
    cancelled: count,
  }),
  total: count,
  preview: z
    .object({
      summary: z.object({
        wouldSucceed: count,
        /** Not in the agreed contract, but the server being built sends it: shown when there. */
        wouldBeRejected: count.optional(),
        wouldBeRefusedByGuard: count,
        wouldBeRefunded: count,
        invalid: count,
        unreadable: count,
      }),
    })
    .nullish(),
  estimatedSecondsLeft: z.number().nonnegative().nullish(),
});

/** What submit and confirm answer: at least these, whatever else they carry. */
export const batchHandle = z.object({ batchId: z.string(), operation: z.string(), status: batchStatus });

export type Batch = z.infer<typeof batchResource>;
export type BatchStatus = z.infer<typeof batchStatus>;
export type BatchHandle = z.infer<typeof batchHandle>;
