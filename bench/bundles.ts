/**
 * Bundle size and the cold-start proxy. Each function is bundled with the options the CDK construct uses
 * (infra/bundling.ts), next to a baseline handler bundled the same way that only creates a DynamoDB client; the
 * proxy is the median time for a fresh Node process to import the bundle (which runs its init). The variants show
 * what three choices cost: the SDK's default credential chain (what the alias removes), source maps, and the
 * Powertools Tracer (X-Ray SDK).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptions } from '../infra/bundling.js';
import { PROJECT_ROOT, functionEntry } from '../infra/functions.js';
import { providerClientsIn } from '../testkit/provider-markers.js';
import { median } from './stats.js';

const OUT = join(PROJECT_ROOT, 'cdk.out', 'bench');

type Variant = 'shipped' | 'default credential chain' | 'source maps' | 'no tracer';

const NO_TRACER = join(PROJECT_ROOT, 'bench', 'no-tracer.ts');

const bundle = async (entry: string, name: string, variant: Variant = 'shipped') => {
  const outfile = join(OUT, `${name}.mjs`);
  const options = esbuildOptions(entry, outfile);
  await build({
    ...options,
    alias:
      variant === 'default credential chain'
        ? {}
        : variant === 'no tracer'
          ? {
              ...options.alias,
              '@aws-lambda-powertools/tracer': NO_TRACER,
              '@aws-lambda-powertools/tracer/middleware': NO_TRACER,
            }
          : options.alias,
    sourcemap: variant === 'source maps',
    sourcesContent: false,
    logLevel: 'error',
  });
  return outfile;
};

const importOnce = (file: string, nodeOptions: string[]): number => {
  const output = execFileSync(
    process.execPath,
    [
      ...nodeOptions,
      '--input-type=module',
      '-e',
      `const t=performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now()-t)`,
    ],
    {
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'AWS_LAMBDA_FUNCTION_NAME')),
        AWS_REGION: 'us-east-1',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      encoding: 'utf8',
    },
  );
  return Number(output.trim().split('\n').at(-1));
};

/**
 * Median import times, taken round-robin (one process per bundle per round), so a noisy moment on this shared
 * machine falls on every bundle alike instead of on whichever was being measured.
 */
const importTimes = (bundles: Array<{ file: string; nodeOptions?: string[] }>, runs: number): number[] => {
  const samples = bundles.map((): number[] => []);
  for (let run = 0; run < runs; run += 1)
    bundles.forEach((entry, index) => samples[index]?.push(importOnce(entry.file, entry.nodeOptions ?? [])));
  return samples.map((series) => median(series));
};

export const measureBundles = async (names: string[], runs = 21) => {
  mkdirSync(OUT, { recursive: true });
  const baselineEntry = join(OUT, 'baseline-entry.mjs');
  writeFileSync(
    baselineEntry,
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nconst client = new DynamoDBClient({});\nexport const handler = async () => client.config.region;\n",
  );
  const baseline = await bundle(baselineEntry, 'baseline');
  const files: string[] = [];
  for (const name of names) files.push(await bundle(functionEntry(name), name));
  // The variants, on the first function.
  const [first] = names as [string];
  const chain = await bundle(functionEntry(first), `${first}-default-chain`, 'default credential chain');
  const mapped = await bundle(functionEntry(first), `${first}-source-maps`, 'source maps');
  const untraced = await bundle(functionEntry(first), `${first}-no-tracer`, 'no tracer');
  const [baselineMs = 0, chainMs = 0, mappedMs = 0, untracedMs = 0, ...functionMs] = importTimes(
    [
      { file: baseline },
      { file: chain },
      { file: mapped, nodeOptions: ['--enable-source-maps'] },
      { file: untraced },
      ...files.map((file) => ({ file })),
    ],
    runs,
  );
  const rows = names.map((name, index) => ({
    name,
    bytes: statSync(files[index] as string).size,
    providerClients: providerClientsIn(readFileSync(files[index] as string, 'utf8')),
    importMs: functionMs[index] ?? 0,
    ratio: (functionMs[index] ?? 0) / baselineMs,
  }));
  const variants = [
    { label: `${first} as shipped`, bytes: rows[0]?.bytes ?? 0, importMs: rows[0]?.importMs ?? 0 },
    { label: `${first} with the SDK's default credential chain`, bytes: statSync(chain).size, importMs: chainMs },
    {
      label: `${first} with a source map and --enable-source-maps (-c sourceMaps=true)`,
      bytes: statSync(mapped).size,
      importMs: mappedMs,
    },
    {
      label: `${first} without the Powertools Tracer and its X-Ray SDK (not shipped)`,
      bytes: statSync(untraced).size,
      importMs: untracedMs,
    },
  ];
  return { baseline: { bytes: statSync(baseline).size, importMs: baselineMs }, rows, variants, runs };
};
