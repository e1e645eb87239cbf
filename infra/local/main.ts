/**
 * `npm start`: runs the API locally on its embedded defaults and prints requests that work as pasted.
 * Configuration names are the contract's (README, "Configuration").
 */
// Set before the runner (and the AWS SDK behind it) loads: on Node 20 the SDK would print a support notice at start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startLocalGateway } = await import('./runner.js');

const PROVIDER_LABELS = { monogoto: 'Monogoto', 'esim-go': 'eSIM Go', stn: 'sTN' } as const;

const main = async (): Promise<void> => {
  const gateway = await startLocalGateway();
  const lines: string[] = [
    '',
    'sim-cancel-gateway is running locally',
    `  API            ${gateway.url}`,
    `  Reference      ${gateway.url}/docs (OpenAPI: ${gateway.url}/v1/openapi.json)`,
    `  DynamoDB       ${gateway.dynamo.embedded ? `embedded dynalite, in memory (${gateway.dynamo.endpoint})` : gateway.dynamo.endpoint}`,
  ];
  for (const [provider, label] of Object.entries(PROVIDER_LABELS)) {
    const sandbox = gateway.sandboxes.find((candidate) => candidate.provider === provider);
    const variable = `${provider.toUpperCase().replace('-', '_')}_BASE_URL`;
    const target = sandbox === undefined ? (process.env[variable] ?? '(not configured)') : `built-in sandbox at ${process.env[variable]} (${variable} is not set)`;
    lines.push(`  ${label.padEnd(15)}${target}`);
  }
  for (const sandbox of gateway.sandboxes) lines.push('', ...sandbox.banner(gateway.url));
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
