/**
 * The CLI's pieces that decide what a user sees or what the API gets: keys, signing choice, report path, the
 * progress text and how it is drawn. (The whole CLI, as a child process, is in cli-batch.test.ts.)
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../cli/batch-resource.js';
import { duration, finalLine, previewLine, progressLine } from '../../cli/format.js';
import { confirmKey, submitKey } from '../../cli/idempotency.js';
import { main } from '../../cli/main.js';
import { createProgressView } from '../../cli/progress-view.js';
import { reportPath } from '../../cli/report.js';
import { createTimeLeft } from '../../cli/time-left.js';
import { isLocal, signingRegion } from '../../cli/transport.js';

const batch = (overrides: Partial<Omit<Batch, 'counts'>> & { counts?: Partial<Batch['counts']> } = {}): Batch => ({
  batchId: 'b_1',
  operation: 'stn-cancel',
  status: 'running',
  total: 40,
  estimatedSecondsLeft: null,
  ...overrides,
  counts: {
    pending: 40,
    succeeded: 0,
    in_progress: 0,
    rejected: 0,
    failed: 0,
    invalid: 0,
    cancelled: 0,
    ...overrides.counts,
  },
});

/** A stdout that records what was written, a terminal or not. */
const capture = (isTTY: boolean) => {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 60 });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { stream, written: () => written };
};

describe('idempotency keys', () => {
  const csv = Buffer.from('iccid\n8944000000000000011\n');

  it('are the same for the same bytes and operation, so a second run resumes the first batch', () => {
    expect(submitKey(csv, 'stn-cancel')).toBe(submitKey(Buffer.from(csv), 'stn-cancel'));
    expect(submitKey(csv, 'stn-cancel')).toMatch(/^batch-[0-9a-f]{64}$/);
  });

  it('differ for another operation or another byte of the file', () => {
    expect(submitKey(csv, 'esim-go-revoke')).not.toBe(submitKey(csv, 'stn-cancel'));
    expect(submitKey(Buffer.from('iccid\n8944000000000000012\n'), 'stn-cancel')).not.toBe(submitKey(csv, 'stn-cancel'));
  });

  it('confirm with a key of the batch', () => expect(confirmKey('b_7')).toBe('b_7-confirm'));
});

describe('signing choice', () => {
  it.each([
    ['http://127.0.0.1:3000', true],
    ['http://localhost:3000', true],
    ['http://[::1]:3000', true],
    ['https://abc123.execute-api.eu-west-1.amazonaws.com/v1', false],
    ['https://api.example.com', false],
  ])('%s is local: %s', (url, local) => expect(isLocal(new URL(url))).toBe(local));

  it('signs for the region of an execute-api URL unless --region says otherwise', () => {
    const url = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/v1');
    expect(signingRegion(url, undefined)).toBe('eu-west-1');
    expect(signingRegion(url, 'us-west-2')).toBe('us-west-2');
  });
});

describe('report path', () => {
  it.each([
    ['orders.csv', 'orders.report.csv'],
    ['/data/Orders.CSV', '/data/Orders.report.csv'],
    ['list.txt', 'list.txt.report.csv'],
  ])('%s gives %s', (input, output) => expect(reportPath(input)).toBe(output));
});

describe('progress text', () => {
  it('shows the bar, done of total, the counts and the time left', () => {
    const running = batch({ counts: { pending: 25, succeeded: 10, rejected: 1, failed: 1, in_progress: 3 } });
    expect(progressLine(running, 42)).toBe(
      '[#######-----------------] 12/40  30% | 0:42 left | 10 succeeded, 1 rejected, 1 failed, 0 invalid, 3 in progress',
    );
  });

  it('ends with a stable line that says how it ended and where the report is', () => {
    const done = batch({ status: 'completed', total: 4, counts: { pending: 0, succeeded: 3, rejected: 1 } });
    expect(finalLine(done, 'orders.report.csv')).toBe(
      'completed: 3 succeeded, 1 rejected, 0 failed, 0 invalid, 0 cancelled of 4; report: orders.report.csv',
    );
  });

  it('adds how many the provider would reject when the API says', () => {
    const summary = {
      wouldSucceed: 3,
      wouldBeRejected: 2,
      wouldBeRefusedByGuard: 1,
      wouldBeRefunded: 0,
      invalid: 0,
      unreadable: 0,
    };
    expect(previewLine(batch({ status: 'previewed', preview: { summary } }))).toBe(
      'preview: 3 would succeed, 2 would be rejected, 1 would be refused by a guard, 0 would be refunded, 0 invalid, 0 unreadable',
    );
  });

  it('names the rows still without an outcome, if a batch ends with some', () => {
    const done = batch({ status: 'completed', total: 2, counts: { pending: 0, rejected: 1, in_progress: 1 } });
    expect(finalLine(done, 'a.report.csv')).toBe(
      'completed: 0 succeeded, 1 rejected, 0 failed, 0 invalid, 0 cancelled, 1 still in progress of 2; report: a.report.csv',
    );
  });

  it('summarises the preview', () => {
    const previewed = batch({
      status: 'previewed',
      preview: {
        summary: { wouldSucceed: 3, wouldBeRefusedByGuard: 1, wouldBeRefunded: 2, invalid: 0, unreadable: 1 },
      },
    });
    expect(previewLine(previewed)).toBe(
      'preview: 3 would succeed, 1 would be refused by a guard, 2 would be refunded, 0 invalid, 1 unreadable',
    );
  });

  it.each([
    [null, '--:--'],
    [0, '0:00'],
    [59.6, '1:00'],
    [754, '12:34'],
    [3723, '1:02:03'],
  ])('writes %s seconds as %s', (seconds, text) => expect(duration(seconds)).toBe(text));
});

describe('time left', () => {
  it("takes the server's estimate when there is one", () => {
    expect(createTimeLeft(() => 0)(batch({ estimatedSecondsLeft: 90 }))).toBe(90);
  });

  it('else estimates from the rows done since watching began, not from those done before', () => {
    let now = 0;
    const timeLeft = createTimeLeft(() => now);
    // 10 rows were done (e.g. invalid) before: no rate yet.
    expect(timeLeft(batch({ counts: { pending: 30, invalid: 10 } }))).toBeNull();
    now = 10_000;
    // 5 more in 10 s: 2 s a row, 25 rows to go.
    expect(timeLeft(batch({ counts: { pending: 25, invalid: 10, succeeded: 5 } }))).toBe(50);
  });
});

describe('progress view', () => {
  it('redraws one line on a terminal, cut to its width, and ends it with a newline', () => {
    const out = capture(true);
    const view = createProgressView(out.stream);
    view.update('first');
    view.update('x'.repeat(100));
    view.end();
    expect(out.written()).toBe(`\r\x1b[2Kfirst\r\x1b[2K${'x'.repeat(59)}\n`);
  });

  it('elsewhere writes plain lines: the first at once, then changes at most every plainEveryMs', () => {
    const out = capture(false);
    let now = 0;
    const view = createProgressView(out.stream, { plainEveryMs: 10_000, now: () => now });
    view.update('a');
    now = 5_000;
    view.update('b');
    now = 11_000;
    view.update('c');
    now = 30_000;
    view.update('c');
    view.end();
    expect(out.written()).toBe('a\nc\n');
  });
});

describe('main', () => {
  it('answers --help with the usage and exit code 0, and a usage error with 2', async () => {
    const stdout = capture(false);
    const stderr = capture(false);
    const io = { stdin: new PassThrough(), stdout: stdout.stream, stderr: stderr.stream };

    expect(await main(['--help'], io)).toBe(0);
    expect(await main(['cancel'], io)).toBe(2);
    expect(stdout.written()).toContain('Exit codes:');
    expect(stderr.written()).toBe(
      'error: unknown command cancel (the only one is batch)\nRun sim-cancel --help for usage.\n',
    );
  });
});
