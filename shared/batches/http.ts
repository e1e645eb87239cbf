/**
 * The batch routes' work: create (JSON or CSV, every item validated at once), read, confirm, cancel and the per-item
 * report. The caller owns its batches: anyone else's is a 404, as for an unknown id.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createHash } from 'node:crypto';
import * as z from '../zod.js';
import { ProblemError, fieldErrorsFromIssues, invalidRequest } from '../errors.js';
import { CSV_CONTENT_TYPE, parseCsv, toCsv } from '../history/csv.js';
import { prefersCsv } from '../history/http.js';
import { callerIdentity, parseIdempotencyKey } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { contracts } from '../operations/contracts.js';
import { config } from '../config.js';
import { type BatchItemMessage, BatchItemsNotSent, sendBatchItems } from './messages.js';
import {
  type BatchItem,
  type BatchMeta,
  MAX_ITEMS,
  batchIdOf,
  createMayBeRunning,
  emptyCounts,
  itemKey,
} from './model.js';
import { createBatch, markCreateCutShort, moveBatch, readItems, readMeta, recordEnqueued } from './store.js';

const header = (event: APIGatewayProxyEvent, name: string) =>
  Object.entries(event.headers ?? {}).find(([candidate]) => candidate.toLowerCase() === name)?.[1];

/** The items of a create request: a JSON `{operation, items}` or a CSV body with `?operation=`. */
const readBody = (event: APIGatewayProxyEvent): { operation: string; rows: Array<Record<string, unknown>> } => {
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  const mediaType = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'text/csv') {
    const operation = event.queryStringParameters?.operation ?? '';
    const [columns = [], ...rows] = parseCsv(body);
    return {
      operation,
      rows: rows.map((cells) =>
        Object.fromEntries(
          columns.flatMap((column, index) => ((cells[index] ?? '') === '' ? [] : [[column, cells[index]]])),
        ),
      ),
    };
  }
  if (mediaType !== 'application/json')
    throw new ProblemError('unsupported-media-type', 'Send the items as application/json or text/csv.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw invalidRequest([{ path: 'body', message: 'is not valid JSON' }]);
  }
  const shape = z.strictObject({ operation: z.string(), items: z.array(z.looseObject({})) }).safeParse(parsed);
  if (!shape.success) throw invalidRequest(fieldErrorsFromIssues(shape.error.issues, { root: 'body' }));
  // Booleans and numbers as they travel in a query string, which is what the operations' schemas read.
  const rows = shape.data.items.map((item) =>
    Object.fromEntries(
      Object.entries(item).map(([field, value]) => [field, typeof value === 'string' ? value : String(value)]),
    ),
  );
  return { operation: shape.data.operation, rows };
};

const visibleBatch = (meta: BatchMeta) => {
  const done = meta.runnable - meta.counts.pending;
  const elapsed = meta.confirmedAt === null ? 0 : (Date.now() - Date.parse(meta.confirmedAt)) / 1000;
  // Unknown (null) once only in_progress items are left: when they end is the provider's business, not the pace's.
  const estimatedSecondsLeft =
    meta.status !== 'running' || done === 0 || meta.counts.pending === 0
      ? null
      : Math.ceil((meta.counts.pending * elapsed) / done);
  return {
    batchId: meta.batchId,
    operation: meta.operation,
    status: meta.status,
    total: meta.total,
    counts: meta.counts,
    ...(meta.status === 'previewing' ? {} : { preview: { summary: meta.summary } }),
    createdAt: meta.createdAt,
    previewedAt: meta.previewedAt,
    confirmedAt: meta.confirmedAt,
    completedAt: meta.completedAt,
    estimatedSecondsLeft,
  };
};

/** Items read back per page: a page's messages go out together (sendBatchItems), then the progress is recorded. */
const ENQUEUE_PAGE = 1000;

/**
 * Sends the phase's messages for the runnable items from where an earlier call stopped, recording progress: only ever
 * a prefix of the items whose messages all went out, so a call again never skips an item (it may send some again).
 */
const enqueue = async (meta: BatchMeta, phase: 'preview' | 'run') => {
  const field = phase === 'preview' ? 'previewEnqueued' : 'runEnqueued';
  let next = meta[field];
  while (next < meta.total) {
    const { items, last } = await readItems(meta.batchId, {
      after: next === 0 ? undefined : itemKey(next - 1),
      limit: ENQUEUE_PAGE,
    });
    const messages: BatchItemMessage[] = items
      .filter((item) => item.status !== 'invalid')
      .map((item) => ({ batchItem: { batchId: meta.batchId, index: item.index, phase } }));
    try {
      await sendBatchItems(meta.operation, messages);
    } catch (error) {
      // Up to the item of the first message not known taken (the invalid items before it need none).
      const taken = error instanceof BatchItemsNotSent ? error.sent : 0;
      const upTo = messages[taken]?.batchItem.index ?? next;
      if (upTo > next) await recordEnqueued(meta.batchId, field, upTo).catch(() => undefined);
      throw error;
    }
    next = (items.at(-1)?.index ?? meta.total - 1) + 1;
    await recordEnqueued(meta.batchId, field, next);
    if (last === null) break;
  }
};

export const createBatchAnswer = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const key = parseIdempotencyKey(header(event, 'idempotency-key'));
  if (key === undefined) throw new ProblemError('idempotency-key-missing', 'Send an Idempotency-Key header.');
  const { operation, rows } = readBody(event);
  const contract = contracts.find((candidate) => candidate.name === operation);
  if (contract === undefined)
    throw invalidRequest([{ path: 'operation', message: `must be one of ${contracts.map((c) => c.name).join(', ')}` }]);
  if (rows.length === 0 || rows.length > MAX_ITEMS)
    throw invalidRequest([{ path: 'items', message: `must hold 1 to ${MAX_ITEMS} items (got ${rows.length})` }]);
  const caller = callerIdentity(event);
  const batchId = batchIdOf(caller, key);
  const payloadHash = createHash('sha256').update(JSON.stringify({ operation, rows })).digest('hex');
  const now = new Date().toISOString();
  const items: BatchItem[] = rows.map((row, index) => {
    // A batch item is never a dry run: the batch's preview is the dry run of every item.
    const checked = contract.input.safeParse({ ...row, dryRun: 'false' });
    const parsed =
      checked.success && (checked.data as { type?: unknown }).type === 'validate'
        ? contract.input.safeParse({ ...row, dryRun: 'false', type: 'a batch item cannot be a dry run' })
        : checked;
    return {
      batchId,
      sk: itemKey(index),
      index,
      input: parsed.success ? (parsed.data as Record<string, unknown>) : row,
      status: parsed.success ? 'pending' : 'invalid',
      ...(parsed.success ? {} : { errors: fieldErrorsFromIssues(parsed.error.issues, { root: `items[${index}]` }) }),
      updatedAt: now,
    } satisfies BatchItem;
  });
  const invalid = items.filter((item) => item.status === 'invalid');
  if (invalid.length === items.length) throw invalidRequest(invalid.slice(0, 20).flatMap((item) => item.errors ?? []));
  const counts = { ...emptyCounts(), pending: items.length - invalid.length, invalid: invalid.length };
  const meta: BatchMeta = {
    batchId,
    sk: 'meta',
    caller,
    operation,
    status: 'previewing',
    total: items.length,
    runnable: items.length - invalid.length,
    counts,
    summary: {
      wouldSucceed: 0,
      wouldBeRejected: 0,
      wouldBeRefusedByGuard: 0,
      wouldBeRefunded: 0,
      invalid: invalid.length,
      unreadable: 0,
    },
    previewed: 0,
    previewEnqueued: 0,
    runEnqueued: 0,
    payloadHash,
    createdAt: now,
    previewedAt: null,
    confirmedAt: null,
    completedAt: null,
    updatedAt: now,
    expiresAt: Math.floor(Date.now() / 1000) + config().OPERATIONS_RETENTION_DAYS * 86_400,
  };
  const cutShort = async (error: unknown): Promise<never> => {
    await markCreateCutShort(batchId);
    throw error;
  };
  const created = await createBatch(meta, items).catch(cutShort);
  const stored = created ? meta : await readMeta(batchId);
  if (stored === undefined) throw new ProblemError('internal-error', 'The batch could not be read back.');
  if (stored.payloadHash !== payloadHash)
    throw new ProblemError('idempotency-key-reused', 'This Idempotency-Key already created a batch with other items.');
  // A create cut short (or this one) continues sending the previews from where it stopped; not while the first create
  // may still be writing its items (a retry of a create still running): that one sends them.
  if (stored.status === 'previewing' && (created || !createMayBeRunning(stored)))
    await enqueue(stored, 'preview').catch(cutShort);
  return jsonResponse(
    202,
    visibleBatch((await readMeta(batchId)) ?? stored),
    created ? {} : { 'idempotent-replayed': 'true' },
  );
};

const ownBatch = async (event: APIGatewayProxyEvent): Promise<BatchMeta> => {
  const batchId = event.pathParameters?.batchId ?? '';
  const meta = /^b_[0-9a-f]{32}$/.test(batchId) ? await readMeta(batchId) : undefined;
  if (meta === undefined || meta.caller !== callerIdentity(event))
    throw new ProblemError('not-found', `No batch ${batchId} for this caller.`);
  return meta;
};

export const getBatchAnswer = async (event: APIGatewayProxyEvent) =>
  jsonResponse(200, visibleBatch(await ownBatch(event)));

export const confirmBatchAnswer = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const meta = await ownBatch(event);
  if (meta.status === 'previewed') await moveBatch(meta.batchId, ['previewed'], 'running', 'confirmedAt');
  const now = (await readMeta(meta.batchId)) as BatchMeta;
  // Running (this confirm or an earlier one) or already completed: a confirm again is answered as it stands.
  if (now.status !== 'running' && now.status !== 'completed')
    throw new ProblemError('batch-not-ready', `The batch is ${now.status}: it can be confirmed once previewed.`, {
      extensions: { batchStatus: now.status },
    });
  // Confirming again (a retry, or after a cut-short confirm) sends only what was not sent yet.
  if (now.status === 'running') await enqueue(now, 'run');
  return jsonResponse(202, visibleBatch((await readMeta(meta.batchId)) ?? now));
};

export const cancelBatchAnswer = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const meta = await ownBatch(event);
  const moved = await moveBatch(meta.batchId, ['previewing', 'previewed', 'running'], 'cancelled', 'completedAt');
  const now = (await readMeta(meta.batchId)) as BatchMeta;
  if (!moved && now.status !== 'cancelled')
    throw new ProblemError('batch-not-ready', `The batch is ${now.status}: there is nothing left to cancel.`, {
      extensions: { batchStatus: now.status },
    });
  // Items never sent will not be: mark them cancelled here; sent ones are marked by their function when they arrive.
  return jsonResponse(200, visibleBatch(now));
};

const REPORT_COLUMNS = ['index', 'status', 'operationId', 'problem', 'preview', 'input', 'errors'] as const;

export const batchItemsAnswer = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const meta = await ownBatch(event);
  const query = z
    .strictObject({
      status: z.enum(['pending', 'succeeded', 'in_progress', 'rejected', 'failed', 'invalid', 'cancelled']).optional(),
      cursor: z
        .string()
        .regex(/^item#\d{6}$/)
        .optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    })
    .safeParse(event.queryStringParameters ?? {});
  if (!query.success)
    throw invalidRequest(fieldErrorsFromIssues(query.error.issues, { root: 'query', unknownFields: 'each' }));
  const wanted = (item: BatchItem) => query.data.status === undefined || item.status === query.data.status;
  if (prefersCsv(event)) {
    const rows: BatchItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await readItems(meta.batchId, { after, limit: 1000 });
      rows.push(...page.items.filter(wanted));
      if (page.last === null) break;
      after = page.last;
    }
    const csv = toCsv(
      REPORT_COLUMNS,
      rows.map((item) => ({
        index: item.index,
        status: item.status,
        operationId: item.operationId ?? null,
        problem:
          item.problem === undefined || item.problem === null ? null : `${item.problem.status} ${item.problem.detail}`,
        preview: item.preview?.outcome ?? null,
        input: JSON.stringify(item.input),
        errors:
          item.errors === undefined ? null : item.errors.map((error) => `${error.path}: ${error.message}`).join('; '),
      })),
    );
    return { statusCode: 200, headers: { 'content-type': CSV_CONTENT_TYPE, 'cache-control': 'no-store' }, body: csv };
  }
  const page = await readItems(meta.batchId, { after: query.data.cursor, limit: query.data.limit ?? 100 });
  return jsonResponse(200, {
    items: page.items.filter(wanted).map(({ batchId: _batch, sk: _sk, ...item }) => item),
    nextCursor: page.last,
  });
};
