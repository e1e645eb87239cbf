/** Watches a confirmed batch until it is done, showing its progress and time left on the way. */
import type { Batch } from './batch-resource.js';
import { progressLine } from './format.js';
import type { Io } from './io.js';
import { pollUntil } from './poll.js';
import { createProgressView } from './progress-view.js';
import { createTimeLeft } from './time-left.js';

type PollOptions = Omit<Parameters<typeof pollUntil>[0], 'until' | 'onPoll'>;

export const watchRun = async (poll: PollOptions, stdout: Io['stdout']): Promise<Batch> => {
  const view = createProgressView(stdout);
  const timeLeft = createTimeLeft();
  try {
    return await pollUntil({
      ...poll,
      until: ['completed', 'cancelled'],
      onPoll: (batch) => view.update(progressLine(batch, timeLeft(batch))),
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
