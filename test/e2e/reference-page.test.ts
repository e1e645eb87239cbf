/**
 * The browsable API reference of `npm start`, opened in a real browser (Debian's Chromium driven by playwright-core):
 * the three operations and the problem types must be on the page. Saves docs/reference.png for the README.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operations } from '../../shared/operations/index.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
if (CHROMIUM === undefined) console.warn('reference page test skipped: no Chromium (apt-get install chromium; .ci/run installs it)');

let runner: ChildProcess;
let output = '';
let browser: Browser | undefined;

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  runner = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], { env: { ...process.env, PORT: '0', MONOGOTO_BASE_URL: '', ESIM_GO_BASE_URL: '', STN_BASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  runner.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl+C')) {
    if (runner.exitCode !== null || Date.now() > deadline) throw new Error(`the runner did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  runner?.kill('SIGTERM');
});

it.runIf(CHROMIUM !== undefined)('lists the three operations and the problem types', async () => {
  const api = /API\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
  const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${api}/docs`);
  const summaries = operations.map((definition) => definition.summary);
  // Runs in the page; typed without the DOM library, which the rest of the project does not use.
  const pageText = () => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText;
  await page.waitForFunction(({ expected, read }) => expected.every((summary) => (new Function(`return (${read})()`)() as string).includes(summary)), { expected: summaries, read: pageText.toString() }, { timeout: 30_000 });
  const text = await page.locator('body').innerText();
  expect(text).toContain('Problem types');
  for (const kind of ['upstream-rejected', 'esim-return-risk', 'reconciliation-needed', 'idempotency-key-reused']) expect(text).toContain(`problems/${kind}`);
  await page.screenshot({ path: 'docs/reference.png' });
});
