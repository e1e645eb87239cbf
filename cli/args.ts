/** Turns the command line into what to do, or a UsageError that says what is wrong with it. */
import { parseArgs } from 'node:util';
import { DEFAULT_INTERVAL_SECONDS, DEFAULT_URL } from './usage.js';

export interface BatchOptions {
  file: string;
  operation: string;
  url: URL;
  region: string | undefined;
  yes: boolean;
  intervalMs: number;
}

export type Command = { kind: 'help' } | ({ kind: 'batch' } & BatchOptions);

/** A mistake on the command line: exit code 2, with the message and a pointer to --help. */
export class UsageError extends Error {}

const parse = (argv: string[]) => {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        operation: { type: 'string' },
        url: { type: 'string', default: DEFAULT_URL },
        region: { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
        interval: { type: 'string', default: String(DEFAULT_INTERVAL_SECONDS) },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--yse'": that is the user's mistake, not a crash.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
};

const parseUrl = (value: string): URL => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url ${value} is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url ${value} is not http(s)`);
  return url;
};

export const parseCommand = (argv: string[]): Command => {
  const { values, positionals } = parse(argv);
  if (values.help) return { kind: 'help' };
  const [command, file, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command: sim-cancel batch <file.csv> --operation <name>');
  if (command !== 'batch') throw new UsageError(`unknown command ${command} (the only one is batch)`);
  if (file === undefined) throw new UsageError('missing the CSV file: sim-cancel batch <file.csv> --operation <name>');
  if (extra.length > 0) throw new UsageError(`one file per batch; unexpected ${extra.join(' ')}`);
  if (values.operation === undefined || values.operation === '') throw new UsageError('missing --operation <name>');
  const interval = Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0)
    throw new UsageError(`--interval ${values.interval} is not a positive number of seconds`);
  return {
    kind: 'batch',
    file,
    operation: values.operation,
    url: parseUrl(values.url),
    region: values.region,
    yes: values.yes,
    intervalMs: Math.round(interval * 1000),
  };
};
