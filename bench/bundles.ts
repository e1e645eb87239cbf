/**
 * Bundle size and the cold-start proxy. Each function is bundled exactly as the CDK construct does (esbuild, ESM,
 * minified, SDK bundled, node22) next to a baseline handler that only creates a DynamoDB client; the proxy is the
 * median time for a fresh Node process to import the bundle (which runs its init), over 21 processes each.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionEntry, PROJECT_ROOT } from '../infra/functions.js';
import { median } from './stats.js';

const OUT = join(PROJECT_ROOT, 'cdk.out', 'bench');
const BANNER = "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);";

const bundle = async (entry: string, name: string) => {
  const outfile = join(OUT, `${name}.mjs`);
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node22', minify: true, mainFields: ['module', 'main'], banner: { js: BANNER }, logLevel: 'error' });
  return outfile;
};

const importTime = (file: string, runs: number): number => {
  const samples: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', `const t=performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now()-t)`], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'AWS_LAMBDA_FUNCTION_NAME')), AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      encoding: 'utf8',
    });
    samples.push(Number(output.trim().split('\n').at(-1)));
  }
  return median(samples);
};

export const measureBundles = async (names: string[], runs = 21) => {
  mkdirSync(OUT, { recursive: true });
  const baselineEntry = join(OUT, 'baseline-entry.mjs');
  writeFileSync(baselineEntry, "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nconst client = new DynamoDBClient({});\nexport const handler = async () => client.config.region;\n");
  const baseline = await bundle(baselineEntry, 'baseline');
  const baselineMs = importTime(baseline, runs);
  const rows = [];
  for (const name of names) {
    const file = await bundle(functionEntry(name), name);
    const ms = importTime(file, runs);
    rows.push({ name, bytes: statSync(file).size, importMs: ms, ratio: ms / baselineMs });
  }
  return { baseline: { bytes: statSync(baseline).size, importMs: baselineMs }, rows, runs };
};
