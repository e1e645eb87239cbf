/**
 * The history routes' page cursors: an opaque base64url token holding where the last page stopped (the index key of its
 * last item: operation id and `createdAt`) and a fingerprint of the query it belongs to (the route, the caller and the
 * filters). A cursor used by another caller or with other filters is refused (400 naming `cursor`) instead of silently
 * paging through another query.
 *
 * Not signed, on purpose: the start key is rebuilt around the partition of the request it comes with (the caller, or the
 * caller and target), so even a hand-made cursor can only start somewhere inside the caller's own operations. The
 * fingerprint catches mistakes (a cursor kept across a filter change, or passed to another caller), not attackers.
 */
import { createHash } from 'node:crypto';
import * as z from '../zod.js';
import { invalidRequest } from '../errors.js';

/** Where a page stopped: the table key and the index's sort key of its last item (the partition comes from the query). */
export interface CursorPosition {
  operationId: string;
  createdAt: string;
}

/** What a cursor is bound to: the route, the caller and every filter that shapes the result (not `limit`). */
export interface CursorBinding {
  route: string;
  caller: string;
  filters: Record<string, string | undefined>;
}

const payloadSchema = z.strictObject({
  v: z.enum(['1']),
  q: z.string(),
  o: z.string().regex(/^op_[0-9a-f]{32}$/),
  c: z.string().regex(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/),
});

/** A short digest of the binding: canonical JSON (filters sorted, absent ones left out), SHA-256, 16 bytes base64url. */
export const fingerprint = (binding: CursorBinding): string => {
  const filters = Object.fromEntries(
    Object.entries(binding.filters)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return createHash('sha256')
    .update(JSON.stringify([binding.route, binding.caller, filters]))
    .digest()
    .subarray(0, 16)
    .toString('base64url');
};

export const encodeCursor = (position: CursorPosition, binding: CursorBinding): string =>
  Buffer.from(
    JSON.stringify({ v: '1', q: fingerprint(binding), o: position.operationId, c: position.createdAt }),
    'utf8',
  ).toString('base64url');

const notOurs = () =>
  invalidRequest([{ path: 'cursor', message: 'is not a cursor this API gave out: pass nextCursor unchanged' }]);

/**
 * The position a cursor holds, if it belongs to this query; a 400 naming `cursor` otherwise. `range` is the query's
 * `createdAt` bounds: a position outside them cannot come from this query.
 */
export const decodeCursor = (
  cursor: string,
  binding: CursorBinding,
  range: { since?: string; until?: string } = {},
): CursorPosition => {
  let payload: z.infer<typeof payloadSchema>;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (!parsed.success) throw notOurs();
    payload = parsed.data;
  } catch {
    throw notOurs();
  }
  if (payload.q !== fingerprint(binding))
    throw invalidRequest([
      {
        path: 'cursor',
        message:
          'belongs to another query: use it as the same caller with the same filters (iccid, activationId, status, since, until) as the request that returned it, or start again without it',
      },
    ]);
  if ((range.since !== undefined && payload.c < range.since) || (range.until !== undefined && payload.c > range.until))
    throw notOurs();
  return { operationId: payload.o, createdAt: payload.c };
};
