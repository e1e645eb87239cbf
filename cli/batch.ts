/**
 * `sim-cancel batch`: submit the file, show the preview, confirm (asking first unless --yes), watch the run, write
 * the report. Every step can be resumed: the same file and operation give the same batch, whatever state it is in.
 */
import type { BatchOptions } from './args.js';
import { createBatchApi } from './api.js';
import type { Batch } from './batch-resource.js';
import { readCsvFile } from './csv-file.js';
import { ExitCode } from './exit-codes.js';
import { finalLine, previewLine, rows } from './format.js';
import { confirmKey, submitKey } from './idempotency.js';
import type { Io } from './io.js';
import { describeError } from './messages.js';
import { pollUntil } from './poll.js';
import { confirm } from './prompt.js';
import { reportPath, writeReport } from './report.js';
import { createSend } from './transport.js';
import { watchRun } from './watch.js';

export const runBatch = async (options: BatchOptions, io: Io, signal: AbortSignal): Promise<ExitCode> => {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const csv = await readCsvFile(options.file);
  const api = createBatchApi(createSend(options.url, options.region), signal);
  const submitted = await api.submit(options.operation, csv.text, submitKey(csv.bytes, options.operation));
  const { batchId } = submitted;
  out(
    submitted.replayed
      ? `resuming batch ${batchId} (${submitted.status}): this file was submitted for ${submitted.operation} before`
      : `submitted batch ${batchId} (${submitted.operation}, ${options.file})`,
  );
  const poll = { api, batchId, intervalMs: options.intervalMs, signal };
  const warn = (error: unknown) => {
    const what = describeError(error, options.url).map((line) => line.trim().replace(/^error: /, ''));
    io.stderr.write(`warning: ${what.join('; ')}; polling again\n`);
  };

  try {
    let saidPreviewing = false;
    let batch: Batch = await pollUntil({
      ...poll,
      until: ['previewed', 'running', 'completed', 'cancelled'],
      onPoll: (current) => {
        if (current.status !== 'previewing' || saidPreviewing) return;
        out(`previewing ${rows(current.total)}...`);
        saidPreviewing = true;
      },
      onRetry: warn,
    });
    out(previewLine(batch));

    if (batch.status === 'previewed') {
      const yes = options.yes || (await confirm(`Run ${batch.operation} for ${rows(batch.total)}?`, io, signal));
      // Ctrl-C at the question is a no, like any answer but y.
      if (!yes) {
        out(
          `not confirmed: nothing ran. Batch ${batchId} stays previewed; the same command asks again (--yes skips it)`,
        );
        return ExitCode.failed;
      }
      await api.confirm(batchId, confirmKey(batchId));
      out(`confirmed batch ${batchId}; running`);
    }

    batch = await watchRun({ ...poll, onRetry: warn }, io.stdout);

    const path = reportPath(options.file);
    await writeReport(path, await api.report(batchId));
    out(finalLine(batch, path));
    return batch.status === 'completed' ? ExitCode.completed : ExitCode.failed;
  } catch (error) {
    if (signal.aborted) return interrupted(out, batchId);
    throw error;
  }
};

const interrupted = (out: (line: string) => void, batchId: string): ExitCode => {
  out(`interrupted: batch ${batchId} stays at the server (running, if it was confirmed); the same command resumes it`);
  return ExitCode.interrupted;
};
