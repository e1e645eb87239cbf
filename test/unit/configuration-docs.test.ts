/** docs/configuration.md names every variable of the configuration schema (the common settings and each provider's). */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configurationSchema } from '../../shared/configuration.js';

it('documents every configuration variable', () => {
  const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const missing = Object.keys(configurationSchema().shape).filter((name) => !page.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});
