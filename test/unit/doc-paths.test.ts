/**
 * Docs that match the code: every repository path the README and docs/ name (in backticks, or as a relative link)
 * must exist, so a moved or renamed file cannot leave a doc pointing at nothing.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const TOP_LEVEL = ['shared', 'infra', 'test', 'docs', 'scripts', 'bench', 'functions', '.ci'];
const docs = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Paths in backticks that start at a top-level folder; placeholders such as `<name>` or `{iccid}` are not paths. */
const namedPaths = (text: string): string[] =>
  [
    ...text.matchAll(
      new RegExp(`\`((?:${TOP_LEVEL.map((folder) => folder.replace('.', '\\.')).join('|')})/[^\`\\s]*)\``, 'g'),
    ),
  ]
    .map((match) => (match[1] ?? '').replace(/[.,:;]+$/, ''))
    .filter((path) => !/[<>{}*]/.test(path));

/** Relative markdown links (images included), resolved from the doc's own folder. */
const linkedPaths = (doc: string, text: string): string[] =>
  [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z]+:/i.test(target))
    .map((target) => normalize(join(dirname(doc), target)));

describe('docs name only files that exist', () => {
  it.each(docs)('%s', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const missing = [...namedPaths(text), ...linkedPaths(doc, text)].filter((path) => !existsSync(join(ROOT, path)));
    expect(missing).toEqual([]);
  });

  it('finds the paths it checks (the check cannot pass by reading nothing)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(namedPaths(readme)).toContain('shared/target-lease.ts');
    expect(linkedPaths('README.md', readme)).toContain('docs/benchmarks.md');
    expect(namedPaths('see `shared/no-such-file.ts`').filter((path) => !existsSync(join(ROOT, path)))).toEqual([
      'shared/no-such-file.ts',
    ]);
  });
});
