/** Starts `npm start`'s entry point as a child process on a free port and waits for its banner. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface RunnerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  url: string;
}

export const startRunnerProcess = async (env: Record<string, string> = {}): Promise<RunnerProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      MONOGOTO_BASE_URL: '',
      ESIM_GO_BASE_URL: '',
      STN_BASE_URL: '',
      DYNAMODB_ENDPOINT: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl+C')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the runner did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => output, url: /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string };
};
