/**
 * Bundle size and the cold-start proxy. Each function is bundled with the options the CDK construct uses
 * (infra/bundling.ts), next to a baseline handler bundled the same way that only creates a DynamoDB client; the
 * proxy is the median time for a fresh Node process to import the bundle (which runs its init). The variants show
 * what two bundling choices cost: the SDK's default credential chain (what the alias removes) and source maps.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../infra/bundling.js';
import { PROJECT_ROOT, functionEntry } from '../infra/functions.js';
import { median } from './stats.js';

const OUT = join(PROJECT_ROOT, 'cdk.out', 'bench');

type Variant = 'shipped' | 'default credential chain' | 'source maps';

const bundle = async (entry: string, name: string, variant: Variant = 'shipped') => {
  const outfile = join(OUT, `${name}.mjs`);
  const options = esbuildOptions(entry, outfile);
  await build({
    ...options,
    alias: variant === 'default credential chain' ? {} : options.alias,
    sourcemap: variant === 'source maps',
    sourcesContent: false,
    logLevel: 'error',
  });
  return outfile;
};

const importTime = (file: string, runs: number, nodeOptions: string[] = []): number => {
  const samples: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const output = execFileSync(process.execPath, [...nodeOptions, '--input-type=module', '-e', `const t=performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now()-t)`], {
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
  // The variants, on the first function, measured in the same run.
  const [first] = names as [string];
  const chain = await bundle(functionEntry(first), `${first}-default-chain`, 'default credential chain');
  const mapped = await bundle(functionEntry(first), `${first}-source-maps`, 'source maps');
  const variants = [
    { label: `${first} as shipped`, bytes: statSync(join(OUT, `${first}.mjs`)).size, importMs: rows[0]?.importMs ?? 0 },
    { label: `${first} with the SDK's default credential chain`, bytes: statSync(chain).size, importMs: importTime(chain, runs) },
    { label: `${first} with a source map and --enable-source-maps (-c sourceMaps=true)`, bytes: statSync(mapped).size, importMs: importTime(mapped, runs, ['--enable-source-maps']) },
  ];
  return { baseline: { bytes: statSync(baseline).size, importMs: baselineMs }, rows, variants, runs };
};
