/** `npm run synth` works offline and without AWS credentials, and bundles each function as deployed. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('synthesizes the stack with bundled ESM functions', async () => {
  const out = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const env = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'none-configured', CDK_HOME: mkdtempSync(join(tmpdir(), 'cdk-home-')) };
  await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', out], { env, timeout: 120_000 });
  const template = JSON.parse(readFileSync(join(out, 'SimCancelGateway.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
  expect(Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function')).toHaveLength(2);
  const assets = readdirSync(out).filter((name) => name.startsWith('asset.'));
  expect(assets.length).toBeGreaterThan(0);
  for (const asset of assets) {
    const bundle = join(out, asset, 'index.mjs');
    expect(statSync(bundle).size).toBeGreaterThan(10_000);
    expect(readFileSync(bundle, 'utf8')).toContain('createRequire');
  }
});
