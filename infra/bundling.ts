/**
 * How every Lambda bundle is built, in one place: read by the CDK construct (NodejsFunction bundling) and by the
 * benchmark (esbuild directly), so the sizes and cold starts it reports are those of what `cdk deploy` ships.
 * ESM, minified, the AWS SDK bundled (its version is the tested one, and tree-shaken), the SDK's default credential
 * chain swapped for the environment-only provider Lambda needs (shared/lambda-credentials.ts).
 */
import { resolve } from 'node:path';
import { PROJECT_ROOT } from './functions.js';

export const BUNDLE_TARGET = 'node22';
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];
/** Some bundled CommonJS dependencies call require(); ESM output needs it defined. */
export const BUNDLE_BANNER =
  "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);";
/** Absolute paths: bundling runs locally (esbuild is a dev dependency; the construct never forces Docker). */
export const BUNDLE_ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': resolve(PROJECT_ROOT, 'shared', 'lambda-credentials.ts'),
};

/** The same options for the esbuild API (the benchmark). */
export const esbuildOptions = (entry: string, outfile: string) => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: BUNDLE_TARGET,
  minify: true,
  mainFields: BUNDLE_MAIN_FIELDS,
  banner: { js: BUNDLE_BANNER },
  alias: BUNDLE_ALIASES,
});
