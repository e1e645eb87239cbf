/**
 * The history routes' pure parts (shared/history/): the cursor's binding, date-time bounds, content negotiation, and
 * how the eSIM timeline merges the gateway's items with eSIM Go's.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type CursorBinding, decodeCursor, encodeCursor, fingerprint } from '../../shared/history/cursor.js';
import { prefersCsv } from '../../shared/history/http.js';
import { historyQuerySchema } from '../../shared/history/schemas.js';
import { type GatewayItem, esimGoItems, mergeTimeline } from '../../shared/history/timeline.js';

const binding: CursorBinding = { route: 'list-operations', caller: 'alice', filters: { status: 'failed' } };
const position = { operationId: `op_${'a'.repeat(32)}`, createdAt: '2024-05-01T10:00:00.000Z' };
const problemPaths = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return ((error as { extensions: { errors: Array<{ path: string }> } }).extensions.errors ?? []).map((e) => e.path);
  }
  return [];
};

describe('cursor', () => {
  it('gives back the position it holds, for the same caller and filters (absent ones and their order aside)', () => {
    const cursor = encodeCursor(position, binding);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, { ...binding, filters: { iccid: undefined, status: 'failed' } })).toEqual(position);
    expect(fingerprint({ ...binding, filters: { a: '1', b: '2' } })).toBe(
      fingerprint({ ...binding, filters: { b: '2', a: '1' } }),
    );
  });

  it('refuses it for another caller, route or filters, and refuses what it did not make', () => {
    const cursor = encodeCursor(position, binding);
    for (const other of [
      { ...binding, caller: 'bob' },
      { ...binding, route: 'refund-report' },
      { ...binding, filters: {} },
      { ...binding, filters: { status: 'succeeded' } },
    ])
      expect(problemPaths(() => decodeCursor(cursor, other))).toEqual(['cursor']);
    const forged = Buffer.from(JSON.stringify({ v: '1', q: fingerprint(binding), o: 'op_x', c: 'now' })).toString(
      'base64url',
    );
    for (const bad of [forged, 'not-base64-json', cursor.slice(1)])
      expect(problemPaths(() => decodeCursor(bad, binding))).toEqual(['cursor']);
    // A position outside the query's range cannot come from it.
    expect(problemPaths(() => decodeCursor(cursor, binding, { since: '2024-06-01T00:00:00.000Z' }))).toEqual([
      'cursor',
    ]);
  });
});

describe('since and until', () => {
  it('normalizes any time zone notation to the records’ own form', () => {
    const parsed = historyQuerySchema.parse({ since: '2024-05-01T02:00+02:00', until: '2024-05-01T00:00:00.5Z' });
    expect(parsed).toEqual({ since: '2024-05-01T00:00:00.000Z', until: '2024-05-01T00:00:00.500Z' });
  });

  it.each(['2024-05-01T24:00:00Z', '2024-13-01T00:00:00Z', '2023-02-29T00:00:00Z', '2024-05-01T00:60Z', '2024-05-01'])(
    'refuses %s',
    (value) => {
      expect(historyQuerySchema.safeParse({ since: value }).success).toBe(false);
    },
  );

  it('takes a leap day', () => {
    expect(historyQuerySchema.parse({ since: '2024-02-29T12:00:00Z' }).since).toBe('2024-02-29T12:00:00.000Z');
  });
});

describe('Accept', () => {
  const event = (accept?: string) => ({ headers: accept === undefined ? {} : { Accept: accept } }) as never;
  it.each([
    ['text/csv', true],
    ['text/csv; charset=utf-8', true],
    ['application/json, text/csv', true],
    ['text/csv;q=0.9, application/json', false],
    ['application/json;q=0.5, text/csv', true],
    ['*/*', false],
    ['text/csv;q=0', false],
    ['application/xml', false],
    [undefined, false],
  ])('%s: CSV %s', (accept, csv) => {
    expect(prefersCsv(event(accept) as APIGatewayProxyEvent)).toBe(csv);
  });
});

describe('the timeline merge', () => {
  const operation = (at: string, operationId: string): GatewayItem => ({
    at,
    source: 'gateway',
    kind: 'operation',
    operationId,
    operation: 'revoke-bundle',
    provider: 'esim-go',
    target: 'iccid:1/bundle:b',
    status: 'succeeded',
    httpStatus: 200,
    attempts: 1,
  });

  it('orders newest first; items of one instant in the reverse of their recorded order', () => {
    const esim = esimGoItems([
      { name: 'Bundle Applied', bundleName: 'b', date: '2024-05-01T09:00:00Z' },
      { name: 'Bundle Revoked', bundleName: 'b', date: '2024-05-01T10:00:00Z' },
      { name: 'Bundle Refunded to Inventory', bundleName: 'b', date: '2024-05-01T10:00:00Z' },
      { name: 'eSIM Returned', bundleName: '', date: '2024-05-02T00:00:00+02:00' },
      { name: 'no date' },
    ]);
    expect(esim.map((item) => item.at)).toEqual([
      '2024-05-01T09:00:00.000Z',
      '2024-05-01T10:00:00.000Z',
      '2024-05-01T10:00:00.000Z',
      '2024-05-01T22:00:00.000Z',
    ]);
    const merged = mergeTimeline(
      [operation('2024-05-01T10:00:00.500Z', 'op_2'), operation('2024-05-01T08:00:00.000Z', 'op_1')],
      esim,
    );
    expect(merged.map((item) => ('name' in item ? item.name : item.operationId))).toEqual([
      'eSIM Returned',
      'op_2',
      'Bundle Refunded to Inventory',
      'Bundle Revoked',
      'Bundle Applied',
      'op_1',
    ]);
    expect(merged[0]).toMatchObject({ bundleName: null });
  });
});
