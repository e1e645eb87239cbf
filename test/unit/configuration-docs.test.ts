/**
 * docs/configuration.md names every variable of the configuration schema (the common settings and each provider's),
 * and the context tables of README.md and docs/deploy.md name every CDK context option the app reads.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { contextSchema } from '../../infra/context.js';
import { configurationSchema } from '../../shared/configuration.js';

it('documents every configuration variable', () => {
  const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const missing = Object.keys(configurationSchema().shape).filter((name) => !page.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});

it.each(['README.md', 'docs/deploy.md'])('%s documents every CDK context option in its context table', (page) => {
  const text = readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8');
  const table = text.slice(text.indexOf('| option | meaning | default |'));
  const rows = table.slice(0, table.search(/\n\n/)).split('\n');
  const missing = Object.keys(contextSchema.shape).filter(
    (key) => !rows.some((row) => row.startsWith(`| \`${key}\``) || row.includes(`, \`${key}\``)),
  );
  expect(missing).toEqual([]);
});
