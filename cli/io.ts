/** The streams the CLI talks through: the process's own, or a test's. */
import type { Readable, Writable } from 'node:stream';

export interface Io {
  stdin: Readable & { isTTY?: boolean };
  /** Progress, summaries and the prompt; `isTTY` decides between a redrawn line and plain lines. */
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable;
}

export const processIo = (): Io => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
