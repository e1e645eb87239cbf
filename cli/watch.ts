/**
 * Watches a confirmed batch until it is done, showing its progress and time left on the way. Rows the provider
 * completes later (sTN CANCELLING) keep the batch running until their follow-ups settle them: said once, on its own
 * line, when they are all that is left.
 */
import type { Batch } from './batch-resource.js';
import { progressLine, waitingLine } from './format.js';
import type { Io } from './io.js';
import { pollUntil } from './poll.js';
import { createProgressView } from './progress-view.js';
import { createTimeLeft } from './time-left.js';

type PollOptions = Omit<Parameters<typeof pollUntil>[0], 'until' | 'onPoll'>;

export const watchRun = async (poll: PollOptions, stdout: Io['stdout']): Promise<Batch> => {
  let view = createProgressView(stdout);
  const timeLeft = createTimeLeft();
  let saidWaiting = false;
  try {
    return await pollUntil({
      ...poll,
      until: ['completed', 'cancelled'],
      onPoll: (batch) => {
        if (!saidWaiting && batch.status === 'running' && batch.counts.pending === 0 && batch.counts.in_progress > 0) {
          view.end();
          stdout.write(`${waitingLine(batch)}\n`);
          saidWaiting = true;
          // A fresh view: the progress under it is shown at once, not when a plain line is next due.
          view = createProgressView(stdout);
        }
        view.update(progressLine(batch, timeLeft(batch)));
      },
      onRetry: (error) => {
        // A warning on a line of its own, not in the middle of the redrawn one.
        view.end();
        poll.onRetry(error);
      },
    });
  } finally {
    view.end();
  }
};
