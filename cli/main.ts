/** The `sim-cancel` command: parses the command line, runs the command, and turns every outcome into an exit code. */
import type { Command } from './args.js';
import { parseCommand, UsageError } from './args.js';
import { runBatch } from './batch.js';
import { ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { processIo } from './io.js';
import { describeError } from './messages.js';
import { usage } from './usage.js';

export const main = async (argv: string[], io: Io = processIo()): Promise<ExitCode> => {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`error: ${error.message}\nRun sim-cancel --help for usage.\n`);
    return ExitCode.usage;
  }
  if (command.kind === 'help') {
    io.stdout.write(usage);
    return ExitCode.completed;
  }

  // Ctrl-C stops the watching, not the batch; a second Ctrl-C gets Node's default (immediate exit).
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  try {
    return await runBatch(command, io, controller.signal);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return ExitCode.usage;
    }
    if (controller.signal.aborted) {
      // The submit may or may not have reached the API; nothing was confirmed either way.
      io.stderr.write('interrupted before anything was confirmed; the same command picks up where this stopped\n');
      return ExitCode.interrupted;
    }
    io.stderr.write(`${describeError(error, command.url).join('\n')}\n`);
    return ExitCode.failed;
  } finally {
    process.off('SIGINT', interrupt);
  }
};
