/** Input rules of the HTTP contract, checked on real API Gateway event shapes. */
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../shared/errors.js';
import { parseIdempotencyKey, parseRequest } from '../../shared/http/request.js';
import { cancelEsim } from '../../shared/operations/cancel-esim/index.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { apiGatewayEvent } from '../../testkit/harness.js';

const iccid = withLuhnCheckDigit('894400000000000001');
const path = `/v1/monogoto/esims/${iccid}/cancel`;

const problemOf = (run: () => unknown): ProblemError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('expected a ProblemError');
};

const parse = (call: Partial<Parameters<typeof apiGatewayEvent>[1]>) =>
  parseRequest(
    apiGatewayEvent(cancelEsim as never, {
      method: 'POST',
      path,
      headers: { 'idempotency-key': 'k1' },
      body: { matchingId: 'ABC-1' },
      ...call,
    }),
    cancelEsim,
  );

describe('parseRequest', () => {
  it('merges path and body into the input and keeps the caller from the request context', () => {
    const request = parse({ caller: 'arn:aws:iam::123456789012:user/ops' });
    expect(request).toEqual({
      input: { iccid, matchingId: 'ABC-1', dryRun: false },
      dryRun: false,
      idempotencyKey: 'k1',
      caller: 'arn:aws:iam::123456789012:user/ops',
    });
  });

  it('reads header names case-insensitively', () => {
    expect(parse({ headers: { 'IDEMPOTENCY-KEY': 'k2' } }).idempotencyKey).toBe('k2');
  });

  it('names every bad field at once', () => {
    const problem = problemOf(() =>
      parse({ path: `/v1/monogoto/esims/123/cancel?dryRun=maybe`, body: { matchingId: '', extra: 1 } }),
    );
    expect(problem.status).toBe(400);
    expect((problem.extensions.errors as Array<{ path: string }>).map((error) => error.path).sort()).toEqual([
      'dryRun',
      'extra',
      'iccid',
      'matchingId',
    ]);
  });

  it('refuses unknown query parameters, so a typo in dryRun cannot become a real cancellation', () => {
    const problem = problemOf(() => parse({ path: `${path}?dryrun=true` }));
    expect(problem.extensions.errors).toEqual([{ path: 'dryrun', message: 'is not a known field' }]);
  });

  it('refuses a repeated query parameter', () => {
    expect(problemOf(() => parse({ path: `${path}?dryRun=true&dryRun=false` })).extensions.errors).toEqual([
      { path: 'dryRun', message: 'is given more than once' },
    ]);
  });

  it('accepts a dry run without an Idempotency-Key', () => {
    const request = parse({ path: `${path}?dryRun=true`, headers: {} });
    expect(request.dryRun).toBe(true);
    expect(request.idempotencyKey).toBeUndefined();
  });

  it.each([
    ['malformed JSON', '{"matchingId":', { 'content-type': 'application/json' }, 400],
    ['a JSON array', '[1]', { 'content-type': 'application/json' }, 400],
    ['a text body', 'matchingId=1', { 'content-type': 'text/plain' }, 415],
    ['no content type', '{"matchingId":"A"}', { 'content-type': '' }, 415],
    [
      'a body over 16 KiB',
      JSON.stringify({ matchingId: 'x'.repeat(16 * 1024) }),
      { 'content-type': 'application/json' },
      413,
    ],
  ])('answers %s with the right status', (_label, body, headers, status) => {
    const event = apiGatewayEvent(cancelEsim as never, {
      method: 'POST',
      path,
      body,
      headers: { 'idempotency-key': 'k', ...headers },
    });
    if (headers['content-type'] === '') delete event.headers['content-type'];
    expect(problemOf(() => parseRequest(event, cancelEsim)).status).toBe(status);
  });

  it('accepts application/json with parameters and +json media types', () => {
    expect(
      parse({ headers: { 'idempotency-key': 'k', 'content-type': 'application/json; charset=utf-8' } }).input
        .matchingId,
    ).toBe('ABC-1');
    expect(
      parse({ headers: { 'idempotency-key': 'k', 'content-type': 'application/merge-patch+json' } }).input.matchingId,
    ).toBe('ABC-1');
  });

  it('decodes base64-encoded bodies as API Gateway sends binary payloads', () => {
    const event = apiGatewayEvent(cancelEsim as never, {
      method: 'POST',
      path,
      headers: { 'idempotency-key': 'k' },
      body: { matchingId: 'B64' },
    });
    event.body = Buffer.from(event.body ?? '').toString('base64');
    event.isBase64Encoded = true;
    expect(parseRequest(event, cancelEsim).input.matchingId).toBe('B64');
  });
});

describe('parseIdempotencyKey', () => {
  it('accepts plain and quoted forms', () => {
    expect(parseIdempotencyKey('abc-123')).toBe('abc-123');
    expect(parseIdempotencyKey('"abc-123"')).toBe('abc-123');
    expect(parseIdempotencyKey('x'.repeat(255))).toHaveLength(255);
  });

  it.each([
    ['empty', ''],
    ['quoted empty', '""'],
    ['too long', 'x'.repeat(256)],
    ['non-ASCII', 'clé'],
    ['control characters', 'a\tb'],
  ])('refuses a key that is %s', (_label, key) => {
    expect(() => parseIdempotencyKey(key)).toThrow(ProblemError);
  });
});
