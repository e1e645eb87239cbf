/** `npm run synth` works offline and without AWS credentials, and bundles each function as deployed. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling.js';
import { functionEntry } from '../../infra/functions.js';
import { batchRoutes, routes } from '../../shared/http/routes.js';
import { PROVIDER_MARKERS, providerClientsIn } from '../../testkit/provider-markers.js';

/** Functions that call no provider. */
const PROVIDERLESS = [
  'get-operation',
  'list-operations',
  'refund-report',
  'openapi',
  ...batchRoutes.map((route) => route.name),
];

it("synthesizes the stack with one bundled ESM function per operation, each without the other providers' clients", async () => {
  const out = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const env = {
    ...process.env,
    CDK_DISABLE_VERSION_CHECK: '1',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: 'none-configured',
    CDK_HOME: mkdtempSync(join(tmpdir(), 'cdk-home-')),
  };
  await promisify(execFile)(
    'npx',
    ['cdk', 'synth', '--quiet', '--output', out, '-c', 'stnBaseUrl=https://partner.example'],
    { env, timeout: 120_000 },
  );
  const template = JSON.parse(readFileSync(join(out, 'SimCancelGateway.template.json'), 'utf8')) as {
    Resources: Record<
      string,
      { Type: string; Properties: { Description?: string }; Metadata?: Record<string, string> }
    >;
  };
  const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
  expect(functions).toHaveLength(routes.length);
  expect(routes.filter((route) => route.operation !== undefined).length).toBeGreaterThanOrEqual(
    Object.keys(PROVIDER_MARKERS).length,
  );
  for (const fn of functions) {
    const bundlePath = join(out, fn.Metadata?.['aws:asset:path'] ?? 'missing', 'index.mjs');
    expect(statSync(bundlePath).size).toBeGreaterThan(10_000);
    const bundle = readFileSync(bundlePath, 'utf8');
    expect(bundle).toContain('createRequire');
    const own = providerClientsIn(bundle);
    const providerless = PROVIDERLESS.some(
      (name) => fn.Properties.Description === routes.find((route) => route.name === name)?.summary,
    );
    expect(
      own,
      `${fn.Properties.Description} carries ${providerless ? 'no' : 'exactly one'} provider client`,
    ).toHaveLength(providerless ? 0 : 1);
    // The descriptors load their sandboxes by a computed URL: no simulator or sandbox record reaches a bundle.
    expect(bundle).not.toMatch(/sandbox-esim-go-api-key|sandbox-stn-api-key|sandbox-password|Injected failure/);
    // The SDK's default credential chain is swapped for the environment-only provider (infra/bundling.ts).
    expect(bundle).not.toMatch(/credential_process|sso_session|AWS_WEB_IDENTITY_TOKEN_FILE|AWS_CONTAINER_CREDENTIALS/);
    // No source map unless asked for (-c sourceMaps=true): Node would parse it on every cold start.
    expect(() => statSync(`${bundlePath}.map`)).toThrow();
    // The benchmark builds with infra/bundling.ts directly: it must produce what CDK ships, byte for byte.
    const name = routes.find((route) => route.summary === fn.Properties.Description)?.name as string;
    const benchBuild = join(out, `bench-${name}.mjs`);
    await build({ ...esbuildOptions(functionEntry(name), benchBuild), logLevel: 'error' });
    expect(readFileSync(benchBuild, 'utf8'), `${name}: the bench's bundle is the shipped one`).toBe(bundle);
  }
});
