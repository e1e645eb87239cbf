/**
 * `npm start`: runs the API locally on its embedded defaults and prints requests that work as pasted.
 * Configuration names are the contract's (docs/configuration.md).
 */
// Set before the runner (and the AWS SDK behind it) loads: on Node 20 the SDK would print a support notice at start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { startLocalGateway } = await import('./runner.js');

const { bannerLines } = await import('./banner.js');
const { contracts } = await import('../../shared/operations/contracts.js');

const main = async (): Promise<void> => {
  const gateway = await startLocalGateway();
  const dynamo = gateway.dynamo.embedded
    ? `embedded dynalite, in memory (${gateway.dynamo.endpoint})`
    : gateway.dynamo.endpoint;
  const lines = bannerLines({
    gatewayUrl: gateway.url,
    dynamo,
    providers: gateway.providers,
    sandboxes: gateway.sandboxes,
    contracts,
    env: process.env,
  });
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
  console.error(
    code === 'EADDRINUSE'
      ? `Cannot listen: the port is in use (set PORT to another one). ${message}`
      : `Failed to start: ${message}`,
  );
  process.exit(1);
});
