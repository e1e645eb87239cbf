/**
 * Shows a changing progress line. On a terminal: one line, redrawn in place. Elsewhere (CI logs, pipes, tests): a
 * plain line when something changed, at most every `plainEveryMs`, so a long batch does not flood a log.
 */
import type { Io } from './io.js';

export interface ProgressView {
  update(line: string): void;
  /** Ends the redrawn line, so what follows starts on a fresh one. */
  end(): void;
}

export const createProgressView = (
  stdout: Io['stdout'],
  options: { plainEveryMs?: number; now?: () => number } = {},
): ProgressView => {
  const { plainEveryMs = 10_000, now = Date.now } = options;
  if (stdout.isTTY === true) {
    let drawn = false;
    return {
      update: (line) => {
        // Cut to the terminal's width: a wrapped line cannot be redrawn with \r.
        const width = (stdout.columns ?? 120) - 1;
        stdout.write(`\r\x1b[2K${line.slice(0, width)}`);
        drawn = true;
      },
      end: () => {
        if (drawn) stdout.write('\n');
        drawn = false;
      },
    };
  }
  let last: { line: string; at: number } | undefined;
  return {
    update: (line) => {
      if (last !== undefined && (line === last.line || now() - last.at < plainEveryMs)) return;
      stdout.write(`${line}\n`);
      last = { line, at: now() };
    },
    end: () => {},
  };
};
