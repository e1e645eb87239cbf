/**
 * `npm start`: runs the API locally on its embedded defaults and prints requests that work as pasted.
 * Configuration names are the contract's (README, "Configuration").
 */
import { startLocalGateway } from './runner.js';

const shellQuote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

const main = async (): Promise<void> => {
  const userSetMonogoto = process.env.MONOGOTO_BASE_URL !== undefined && process.env.MONOGOTO_BASE_URL !== '';
  const gateway = await startLocalGateway();
  const lines: string[] = [
    '',
    'sim-cancel-gateway is running locally',
    `  API            ${gateway.url}`,
    `  DynamoDB       ${gateway.dynamo.embedded ? `embedded dynalite, in memory (${gateway.dynamo.endpoint})` : process.env.DYNAMODB_ENDPOINT}`,
    `  Monogoto       ${userSetMonogoto ? process.env.MONOGOTO_BASE_URL : `built-in sandbox at ${process.env.MONOGOTO_BASE_URL} (MONOGOTO_BASE_URL is not set)`}`,
    '',
  ];
  const monogoto = gateway.sandboxes.monogoto;
  if (monogoto !== undefined) {
    const released = monogoto.esims();
    lines.push('Sandbox records (Monogoto eSIMs):');
    for (const esim of released) lines.push(`  iccid ${esim.iccid}  state ${esim.state.padEnd(9)}  matchingId ${esim.matchingId ?? '-'}`);
    const first = released.find((esim) => esim.state === 'released');
    if (first !== undefined) {
      const url = `${gateway.url}/v1/monogoto/esims/${first.iccid}/cancel`;
      const body = JSON.stringify({ matchingId: first.matchingId });
      lines.push(
        '',
        'Cancel a matching ID (run it twice: the second answer is a replay with Idempotent-Replayed: true):',
        `  curl -i -X POST ${shellQuote(url)} -H 'content-type: application/json' -H 'idempotency-key: try-it-1' -d ${shellQuote(body)}`,
        '',
        'Preview without changing anything:',
        `  curl -i -X POST ${shellQuote(`${url}?dryRun=true`)} -H 'content-type: application/json' -d ${shellQuote(body)}`,
      );
    }
  }
  lines.push('', 'Press Ctrl+C to stop.', '');
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping\n`);
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
};

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  console.error(code === 'EADDRINUSE' ? `Cannot listen: the port is in use (set PORT to another one). ${message}` : `Failed to start: ${message}`);
  process.exit(1);
});
