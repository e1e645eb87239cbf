/**
 * The start banner of `npm start`: where everything runs, each sandbox's records, and each operation's `tryIt`
 * requests as curl commands built from its contract's route, so they work as pasted.
 */
import type { OperationContract } from '../../shared/operations/definition.js';
import type { AnyProvider } from '../../shared/providers/provider.js';
import { variable } from '../../shared/providers/provider.js';
import type { StartedSandbox } from './sandboxes.js';

const quote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

/** One `tryIt` entry of a contract as a curl command against `gatewayUrl`. */
export const curlFor = (
  contract: OperationContract,
  input: Record<string, string | boolean | undefined>,
  gatewayUrl: string,
  idempotencyKey?: string,
): string => {
  const inPath = Object.keys(contract.request.path.shape);
  const inQuery = Object.keys(contract.request.query.shape);
  const path = contract.route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(input[name] ?? '')),
  );
  const query = new URLSearchParams(
    Object.entries(input).flatMap(([name, value]) =>
      inQuery.includes(name) && value !== undefined ? [[name, String(value)] as [string, string]] : [],
    ),
  );
  const body = Object.fromEntries(
    Object.entries(input).filter(
      ([name, value]) => !inPath.includes(name) && !inQuery.includes(name) && value !== undefined,
    ),
  );
  const url = `${gatewayUrl}${path}${query.size > 0 ? `?${query}` : ''}`;
  const parts = [`curl -i -X ${contract.route.method} ${quote(url)}`];
  if (contract.request.body !== undefined) parts.push("-H 'content-type: application/json'");
  if (idempotencyKey !== undefined) parts.push(`-H 'idempotency-key: ${idempotencyKey}'`);
  if (Object.keys(body).length > 0) parts.push(`-d ${quote(JSON.stringify(body))}`);
  return parts.join(' ');
};

export const bannerLines = (options: {
  gatewayUrl: string;
  dynamo: string;
  providers: readonly AnyProvider[];
  sandboxes: readonly StartedSandbox[];
  contracts: readonly OperationContract[];
  env: NodeJS.ProcessEnv;
}): string[] => {
  const { gatewayUrl, env } = options;
  const lines = [
    '',
    'sim-cancel-gateway is running locally',
    `  API            ${gatewayUrl}`,
    `  Reference      ${gatewayUrl}/docs (OpenAPI: ${gatewayUrl}/v1/openapi.json)`,
    `  DynamoDB       ${options.dynamo}`,
  ];
  for (const provider of options.providers) {
    const baseUrl = variable(provider, 'BASE_URL');
    const sandboxed = options.sandboxes.some((sandbox) => sandbox.provider === provider.name);
    lines.push(
      `  ${provider.label.padEnd(15)}${sandboxed ? `built-in sandbox at ${env[baseUrl]} (${baseUrl} is not set)` : (env[baseUrl] ?? '(not configured)')}`,
    );
  }
  for (const sandbox of options.sandboxes) {
    lines.push('', ...sandbox.banner(gatewayUrl));
    for (const contract of options.contracts.filter((candidate) => candidate.provider === sandbox.provider)) {
      for (const example of contract.tryIt)
        lines.push('', example.say, `  ${curlFor(contract, example.input, gatewayUrl, example.idempotencyKey)}`);
    }
  }
  lines.push(
    '',
    `Follow-ups take an answer to its final state (sTN CANCELLING, eSIM Go refunds): first check after ${env.FOLLOW_UP_FIRST_DELAY_SECONDS ?? 60} s here (FOLLOW_UP_FIRST_DELAY_SECONDS).`,
    'Your operations, newest first, and the refund ledger as CSV:',
    `  curl -s ${quote(`${gatewayUrl}/v1/operations?limit=5`)}`,
    `  curl -s -H 'accept: text/csv' ${quote(`${gatewayUrl}/v1/reports/refunds`)}`,
  );
  return lines;
};
