/**
 * Time left of a running batch: the server's estimate when it gives one, else the rate at which rows got done since
 * this CLI started watching (rows done before, e.g. invalid ones or an earlier run's, say nothing about the rate).
 * Unknown once only rows the provider completes later (in progress) are left.
 */
import type { Batch } from './batch-resource.js';
import { doneCount } from './format.js';

export const createTimeLeft = (now: () => number = Date.now) => {
  let start: { at: number; done: number } | undefined;
  return (batch: Batch): number | null => {
    const done = doneCount(batch);
    start ??= { at: now(), done };
    // Every row sent, some still completing at the provider: when they end is the provider's (the server would say 0).
    if (batch.counts.pending === 0 && batch.counts.in_progress > 0) return null;
    if (batch.estimatedSecondsLeft !== undefined && batch.estimatedSecondsLeft !== null)
      return batch.estimatedSecondsLeft;
    const progressed = done - start.done;
    if (progressed <= 0) return null;
    const secondsPerRow = (now() - start.at) / 1000 / progressed;
    return (batch.total - done) * secondsPerRow;
  };
};
