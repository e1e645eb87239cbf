/** The text the CLI prints about a batch: pure functions of its state, so tests can pin them down exactly. */
import type { Batch } from './batch-resource.js';

/** `0:42`, `12:05`, `1:02:03`; `--:--` while nobody knows. */
export const duration = (seconds: number | null): string => {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const whole = Math.max(0, Math.round(seconds));
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
};

/** `1 row`, `4 rows`. */
export const rows = (count: number): string => `${count} row${count === 1 ? '' : 's'}`;

/** Rows with an outcome: everything neither waiting nor being worked on. */
export const doneCount = (batch: Batch): number =>
  Math.max(0, batch.total - batch.counts.pending - batch.counts.in_progress);

export const previewLine = (batch: Batch): string => {
  const summary = batch.preview?.summary;
  if (summary === undefined || summary === null) return 'preview: not available';
  const rejected = summary.wouldBeRejected === undefined ? '' : `${summary.wouldBeRejected} would be rejected, `;
  return (
    `preview: ${summary.wouldSucceed} would succeed, ${rejected}` +
    `${summary.wouldBeRefusedByGuard} would be refused by a guard, ${summary.wouldBeRefunded} would be refunded, ` +
    `${summary.invalid} invalid, ${summary.unreadable} unreadable`
  );
};

const BAR_WIDTH = 24;

/**
 * `[#######-----------------] 12/40  30% | 0:42 left | 10 succeeded, 1 rejected, 1 failed, 0 invalid, 3 in progress`:
 * the most telling first, since a narrow terminal cuts the end off.
 */
export const progressLine = (batch: Batch, secondsLeft: number | null): string => {
  const done = doneCount(batch);
  const fraction = batch.total === 0 ? 1 : Math.min(1, done / batch.total);
  const filled = Math.floor(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const { succeeded, rejected, failed, invalid, in_progress } = batch.counts;
  return (
    `${bar} ${done}/${batch.total} ${percent} | ${duration(secondsLeft)} left | ${succeeded} succeeded, ` +
    `${rejected} rejected, ${failed} failed, ${invalid} invalid, ${in_progress} in progress`
  );
};

/** Said once, when only rows the provider completes later are left (the batch runs until their follow-ups end). */
export const waitingLine = (batch: Batch): string =>
  `all rows sent; waiting for ${rows(batch.counts.in_progress)} the provider completes later (in progress); ` +
  'Ctrl-C leaves them to finish at the server, and the same command resumes';

/**
 * The last line: how the batch ended and where the report is. Stable, for scripts and tests to match; rows without
 * an outcome yet (a cancelled batch's rows still settling at the provider) are named only when there are any, since
 * the counts then fall short.
 */
export const finalLine = (batch: Batch, reportPath: string): string => {
  const { succeeded, rejected, failed, invalid, cancelled } = batch.counts;
  const unfinished = batch.total - doneCount(batch);
  return (
    `${batch.status}: ${succeeded} succeeded, ${rejected} rejected, ${failed} failed, ${invalid} invalid, ` +
    `${cancelled} cancelled${unfinished > 0 ? `, ${unfinished} still in progress` : ''} of ${batch.total}; ` +
    `report: ${reportPath}`
  );
};
