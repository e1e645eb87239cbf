/**
 * What each Lambda bundle is made of (the construct's esbuild options, with a metafile): every function goes through
 * the one Lambda wrapper, and none carries the local runner's code, its in-memory sinks for outcome events and dead
 * letters included.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling.js';
import { functionEntry } from '../../infra/functions.js';
import { routes } from '../../shared/http/routes.js';

it.each(routes.map((route) => route.name))('%s: wrapped by shared/lambda.ts, without infra/local', async (name) => {
  const outfile = join(mkdtempSync(join(tmpdir(), 'bundle-contents-')), 'index.mjs');
  const { metafile } = await build({
    ...esbuildOptions(functionEntry(name), outfile),
    metafile: true,
    logLevel: 'error',
  });
  const inputs = Object.keys(metafile.inputs);
  expect(inputs).toContain('shared/lambda.ts');
  expect(inputs.some((input) => input.includes('@aws-lambda-powertools/logger/lib/esm/middleware'))).toBe(true);
  expect(inputs.filter((input) => input.startsWith('infra/'))).toEqual([]);
});
