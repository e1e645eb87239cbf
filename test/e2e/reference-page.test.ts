/**
 * The browsable API reference of `npm start`, opened in a real browser (Debian's Chromium driven by playwright-core):
 * the three operations and the problem types must be on the page. Saves docs/reference.png for the README.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { contracts as operations } from '../../shared/operations/contracts.js';
import { type RunnerProcess, startRunnerProcess } from '../support/runner-process.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
if (CHROMIUM === undefined)
  console.warn('reference page test skipped: no Chromium (apt-get install chromium; .ci/run installs it)');

let runner: RunnerProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (CHROMIUM === undefined) return;
  runner = await startRunnerProcess();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  runner?.child.kill('SIGTERM');
});

it.runIf(CHROMIUM !== undefined)('lists the three operations and the problem types', async () => {
  const api = (runner as RunnerProcess).url;
  const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${api}/docs`);
  const summaries = operations.map((definition) => definition.summary);
  // Runs in the page; typed without the DOM library, which the rest of the project does not use.
  const pageText = () =>
    (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText;
  await page.waitForFunction(
    ({ expected, read }) =>
      expected.every((summary) => (new Function(`return (${read})()`)() as string).includes(summary)),
    { expected: summaries, read: pageText.toString() },
    { timeout: 30_000 },
  );
  const text = await page.locator('body').innerText();
  expect(text).toContain('Problem types');
  for (const kind of ['upstream-rejected', 'esim-return-risk', 'reconciliation-needed', 'idempotency-key-reused'])
    expect(text).toContain(`problems/${kind}`);
  await page.screenshot({ path: 'docs/reference.png' });
});
