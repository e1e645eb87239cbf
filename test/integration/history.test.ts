/**
 * The history routes in-process against DynamoDB Local, over operations made by the real operation handlers (sTN
 * cancels, eSIM Go revokes, a Monogoto cancel) for two callers: GET /v1/operations paged newest first, only the
 * caller's, by eSIM, activation, status and time; its cursor rules and input errors; the refund ledger as JSON and as
 * CSV; the eSIM timeline with eSIM Go's history, with eSIM Go down, and for an eSIM that is not eSIM Go's.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaContext } from '../../infra/local/apigw-event.js';
import { type EsimGoSimulator, assignment } from '../../sandbox/esim-go/simulator.js';
import type { MonogotoSimulator } from '../../sandbox/monogoto/simulator.js';
import { type StnSimulator, activation } from '../../sandbox/stn/simulator.js';
import {
  esimTimelineRoute,
  listOperationsRoute,
  refundReportRoute,
  type RouteDefinition,
} from '../../shared/http/routes.js';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { assertMatchesContract } from '../../testkit/contract.js';
import {
  type Answer,
  type Handler,
  type HttpCall,
  apiGatewayEvent,
  invoke,
  loadOperation,
  startEsimGo,
  startMonogoto,
  startStn,
} from '../../testkit/harness.js';

const ALICE = 'arn:aws:iam::111111111111:user/alice';
const BOB = 'arn:aws:iam::222222222222:user/bob';

type Item = Record<string, unknown> & { operationId: string; createdAt: string; caller: string; status: string };
interface Page {
  items: Item[];
  nextCursor: string | null;
}

let esimGo: EsimGoSimulator;
let stn: StnSimulator;
let monogoto: MonogotoSimulator;
const handlers: Record<string, Handler> = {};
const definitions: Record<string, Parameters<typeof invoke>[1]> = {};
let serial = 0;

/** The harness's invoke takes an operation's `{name, route}`; a reader route is passed the same way. */
const asDefinition = (route: RouteDefinition) => ({
  name: route.name,
  route: { method: route.method, path: route.path },
});
const key = () => ({ 'Idempotency-Key': `history-${(serial += 1)}-${Math.random().toString(36).slice(2)}` });
const read = (route: RouteDefinition, path: string, caller = ALICE, headers: Record<string, string> = {}) =>
  invoke(handlers[route.name] as Handler, asDefinition(route), { method: 'GET', path, caller, headers });
const history = async (query: string, caller = ALICE) => read(listOperationsRoute, `/v1/operations${query}`, caller);
const page = async (query: string, caller = ALICE) => {
  const answer = await history(query, caller);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as unknown as Page;
};
/** Every item of a query, page by page (`limit` per page), checking each page's size. */
const allPages = async (query: string, limit: number, caller = ALICE) => {
  const items: Item[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages += 1) {
    const separator = query === '' ? '?' : '&';
    const next: Page = await page(
      `${query}${separator}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`.replace(/^&/, '?'),
      caller,
    );
    expect(next.items.length).toBeLessThanOrEqual(limit);
    items.push(...next.items);
    cursor = next.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error('more than 50 pages');
};
/** The raw answer of a reader route (the CSV is not JSON, which the harness's invoke expects), contract-checked. */
const rawRead = async (route: RouteDefinition, call: HttpCall): Promise<APIGatewayProxyResult> => {
  const result = await (handlers[route.name] as Handler)(
    apiGatewayEvent(asDefinition(route), call),
    lambdaContext(route.name, 28_000),
  );
  const contentType = String(result.headers?.['content-type'] ?? '');
  assertMatchesContract({
    method: 'GET',
    route: route.path,
    status: result.statusCode,
    contentType,
    body: contentType.startsWith('text/csv') ? result.body : (JSON.parse(result.body) as unknown),
  });
  return result;
};
const errorsOf = (answer: Answer) => (answer.body.errors as Array<{ path: string }> | undefined)?.map((e) => e.path);
const newestFirst = (items: Item[]) =>
  expect(items.map((item) => item.createdAt)).toEqual(
    items
      .map((item) => item.createdAt)
      .toSorted()
      .reverse(),
  );

/** RFC 4180: quoted fields (doubled quotes, commas and line breaks inside), CRLF between records. */
const parseCsv = (text: string): string[][] => {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] as string;
    if (quoted && char === '"' && text[index + 1] === '"') {
      field += '"';
      index += 1;
    } else if (quoted && char === '"') quoted = false;
    else if (quoted) field += char;
    else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      index += 1;
    } else field += char;
  }
  expect(field === '' && row.length === 0, 'the CSV ends with CRLF').toBe(true);
  return rows;
};

// What the operations below made, per caller.
const made: Record<string, Array<{ operationId: string; kind: string; iccid?: string; activationId?: string }>> = {
  [ALICE]: [],
  [BOB]: [],
};
let aliceEsim: string;
let bobEsim: string;
let monogotoEsim: string;
let aliceActivation: string;

const newEsimGoEsim = () => {
  const iccid = withLuhnCheckDigit(
    `8944${String(Date.now() % 1e8).padStart(8, '0')}${String(++serial).padStart(6, '0')}`,
  );
  esimGo.addEsim({
    iccid,
    profileStatus: 'Installed',
    inAccount: true,
    bundles: [
      {
        name: 'b1',
        description: 'history',
        assignments: [assignment('1', 'queued', 3), assignment('2', 'queued', 2), assignment('3', 'queued', 1)],
      },
    ],
  });
  return iccid;
};
const newActivation = (status: string) => {
  const id = `hist${(serial += 1)}${Math.random().toString(36).slice(2, 8)}`;
  stn.addActivation(activation(id, status));
  return id;
};
const operate = async (name: string, call: HttpCall, expected: number) => {
  const answer = await invoke(handlers[name] as Handler, definitions[name] as never, call);
  expect(answer.status, `${name} ${JSON.stringify(answer.body)}`).toBe(expected);
  const operationId = String(answer.body.operationId);
  // Distinct createdAt milliseconds, so "newest first" has one answer.
  await new Promise((resolve) => setTimeout(resolve, 3));
  return operationId;
};
const revokeBundle = async (caller: string, iccid: string) =>
  made[caller]?.push({
    kind: 'revoke-bundle',
    iccid,
    operationId: await operate(
      'revoke-bundle',
      { method: 'DELETE', path: `/v1/esim-go/esims/${iccid}/bundles/b1`, headers: key(), caller },
      200,
    ),
  });
const revokeAssignment = async (caller: string, iccid: string, assignmentId: string) =>
  made[caller]?.push({
    kind: 'revoke-assignment',
    iccid,
    operationId: await operate(
      'revoke-assignment',
      {
        method: 'DELETE',
        path: `/v1/esim-go/esims/${iccid}/bundles/b1/assignments/${assignmentId}`,
        headers: key(),
        caller,
      },
      200,
    ),
  });
const cancelActivation = async (caller: string, activationId: string, expected: number) =>
  made[caller]?.push({
    kind: 'cancel-activation',
    activationId,
    operationId: await operate(
      'cancel-activation',
      { method: 'POST', path: `/v1/stn/activations/${activationId}/cancel`, headers: key(), caller },
      expected,
    ),
  });

beforeAll(async () => {
  const endpoint = inject('dynamoEndpoint');
  [esimGo, stn, monogoto] = await Promise.all([
    startEsimGo({ seed: false, requestsPerSecond: 10_000 }),
    startStn({ seed: false, requestsPerSecond: 10_000 }),
    startMonogoto({ seed: false }),
  ]);
  // One table for every handler below: loadOperation makes it, the rest share it.
  const first = await loadOperation(endpoint, 'revoke-bundle', 'revokeBundle', {
    UPSTREAM_TIMEOUT_MS: '1000',
    ESIM_GO_REQUESTS_PER_SECOND: '10000',
  });
  handlers['revoke-bundle'] = first.handler;
  definitions['revoke-bundle'] = first.definition;
  for (const [name, exported] of [
    ['revoke-assignment', 'revokeAssignment'],
    ['cancel-activation', 'cancelActivation'],
    ['cancel-esim', 'cancelEsim'],
  ] as const) {
    handlers[name] = ((await import(`../../functions/${name}/index.ts`)) as { handler: Handler }).handler;
    definitions[name] = (
      (await import(`../../shared/operations/${name}/index.ts`)) as Record<string, Parameters<typeof invoke>[1]>
    )[exported] as Parameters<typeof invoke>[1];
  }
  for (const route of [listOperationsRoute, esimTimelineRoute, refundReportRoute])
    handlers[route.name] = ((await import(`../../functions/${route.name}/index.ts`)) as { handler: Handler }).handler;

  aliceEsim = newEsimGoEsim();
  bobEsim = newEsimGoEsim();
  aliceActivation = newActivation('BUSY');
  await cancelActivation(ALICE, aliceActivation, 200);
  await revokeBundle(ALICE, aliceEsim);
  await cancelActivation(BOB, newActivation('BUSY'), 200);
  await cancelActivation(ALICE, newActivation('DONE'), 422);
  await revokeAssignment(ALICE, aliceEsim, '3');
  await revokeBundle(BOB, bobEsim);
  await cancelActivation(ALICE, newActivation('BUSY'), 200);
  await revokeBundle(ALICE, newEsimGoEsim());
  await cancelActivation(ALICE, newActivation('DONE'), 422);
  monogotoEsim = withLuhnCheckDigit(
    `8931${String(Date.now() % 1e9).padStart(9, '0')}${String(++serial).padStart(5, '0')}`,
  );
  const matchingId = `HIST-${serial}`;
  monogoto.addEsim({ iccid: monogotoEsim, state: 'released', matchingId });
  made[ALICE]?.push({
    kind: 'cancel-esim',
    iccid: monogotoEsim,
    operationId: await operate(
      'cancel-esim',
      {
        method: 'POST',
        path: `/v1/monogoto/esims/${monogotoEsim}/cancel`,
        headers: key(),
        body: { matchingId },
        caller: ALICE,
      },
      200,
    ),
  });
}, 60_000);
afterAll(async () => Promise.all([esimGo?.server.stop(), stn?.server.stop(), monogoto?.server.stop()]));

const idsOf = (caller: string, kinds?: string[]) =>
  (made[caller] ?? [])
    .filter((entry) => kinds === undefined || kinds.includes(entry.kind))
    .map((entry) => entry.operationId)
    .reverse();

describe('GET /v1/operations', () => {
  it("pages through the caller's operations newest first, and only the caller's", async () => {
    const alice = await allPages('', 3);
    expect(alice.map((item) => item.operationId)).toEqual(idsOf(ALICE));
    newestFirst(alice);
    expect(new Set(alice.map((item) => item.caller))).toEqual(new Set([ALICE]));
    const bob = await allPages('', 1, BOB);
    expect(bob.map((item) => item.operationId)).toEqual(idsOf(BOB));
    // Someone with no operations has an empty history, not an error.
    expect(await page('', 'arn:aws:iam::333333333333:user/carol')).toEqual({ items: [], nextCursor: null });
  });

  it('answers each operation as GET /v1/operations/{operationId} does: no internal attributes, when it goes', async () => {
    const [newest] = (await page('?limit=1')).items;
    expect(newest).toMatchObject({
      operationId: idsOf(ALICE)[0],
      operation: 'cancel-esim',
      retainedUntil: expect.any(String),
    });
    for (const hidden of ['expiresAt', 'lastAttempt', 'callerTarget']) expect(newest).not.toHaveProperty(hidden);
    expect(Date.parse(String(newest?.retainedUntil))).toBeGreaterThan(Date.now() + 300 * 86_400_000);
  });

  it('filters by eSIM (every operation on it, whatever the bundle) and by activation', async () => {
    const onEsim = await allPages(`?iccid=${aliceEsim}`, 1);
    expect(onEsim.map((item) => item.operationId)).toEqual(
      (made[ALICE] ?? [])
        .filter((entry) => entry.iccid === aliceEsim)
        .map((entry) => entry.operationId)
        .reverse(),
    );
    expect(onEsim.map((item) => item.operation)).toEqual(['revoke-assignment', 'revoke-bundle']);
    expect((await page(`?activationId=${aliceActivation}`)).items.map((item) => item.operationId)).toEqual([
      made[ALICE]?.find((entry) => entry.activationId === aliceActivation)?.operationId,
    ]);
    // Bob's eSIM is not Alice's: nothing, exactly as for an eSIM no one touched.
    expect(await page(`?iccid=${bobEsim}`)).toEqual({ items: [], nextCursor: null });
  });

  it('filters by status, page by page, and may answer short pages while there is more', async () => {
    const rejected = await allPages('?status=rejected', 1);
    expect(rejected.map((item) => item.status)).toEqual(['rejected', 'rejected']);
    expect(rejected.map((item) => item.operation)).toEqual(['cancel-activation', 'cancel-activation']);
    const succeeded = await allPages('?status=succeeded', 2);
    expect(succeeded.length).toBeGreaterThan(0);
    expect(new Set(succeeded.map((item) => item.status))).toEqual(new Set(['succeeded']));
    const everyStatus = new Set((await allPages('', 100)).map((item) => item.status));
    const byStatus = await Promise.all([...everyStatus].map((status) => allPages(`?status=${status}`, 100)));
    expect(byStatus.flat().length).toBe(idsOf(ALICE).length);
  });

  it('bounds createdAt with since and until, inclusive, in any time zone notation', async () => {
    const all = await allPages('', 100);
    const at = (index: number) => (all[index] as Item).createdAt;
    const ids = (items: Item[]) => items.map((item) => item.operationId);
    expect(ids(await allPages(`?since=${at(5)}&until=${at(3)}`, 2))).toEqual(ids(all.slice(3, 6)));
    expect(ids(await allPages(`?since=${at(1)}`, 100))).toEqual(ids(all.slice(0, 2)));
    expect(ids(await allPages(`?until=${at(5)}`, 100))).toEqual(ids(all.slice(5)));
    // The same instant written with an offset selects the same operations.
    const shifted = new Date(Date.parse(at(3)) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    expect(ids(await allPages(`?since=${at(5)}&until=${encodeURIComponent(shifted)}`, 100))).toEqual(
      ids(all.slice(3, 6)),
    );
  });

  it('refuses a cursor used by another caller, with other filters, or not made by the API, naming `cursor`', async () => {
    const first = await page('?limit=2');
    expect(first.nextCursor).not.toBeNull();
    const cursor = first.nextCursor as string;
    // The same query with another limit is fine.
    expect((await page(`?limit=3&cursor=${cursor}`)).items[0]?.operationId).toBe(idsOf(ALICE)[2]);
    for (const [query, caller] of [
      [`?limit=2&cursor=${cursor}`, BOB],
      [`?limit=2&status=succeeded&cursor=${cursor}`, ALICE],
      [`?limit=2&iccid=${aliceEsim}&cursor=${cursor}`, ALICE],
      [`?limit=2&since=2020-01-01T00:00:00Z&cursor=${cursor}`, ALICE],
      [`?cursor=${cursor.slice(0, -4)}`, ALICE],
      ['?cursor=bm90LWEtY3Vyc29y', ALICE],
      ['?cursor=a%20b', ALICE],
    ] as const) {
      const answer = await history(query, caller);
      expect(answer.status, query).toBe(400);
      expect(errorsOf(answer), query).toEqual(['cursor']);
    }
    // A cursor of the history is not one of the refund ledger's.
    const ledger = await read(refundReportRoute, `/v1/reports/refunds?cursor=${cursor}`);
    expect(errorsOf(ledger)).toEqual(['cursor']);
  });

  it.each([
    ['?limit=0', ['limit']],
    ['?limit=101', ['limit']],
    ['?limit=abc', ['limit']],
    ['?limit=2.5', ['limit']],
    ['?limit=', ['limit']],
    ['?iccid=8944000000000000018', ['iccid']],
    ['?iccid=12345', ['iccid']],
    [`?iccid=8944000000000000019&activationId=abc`, ['activationId']],
    ['?activationId=has%20space', ['activationId']],
    ['?status=done', ['status']],
    ['?since=yesterday', ['since']],
    ['?since=2024-05-01', ['since']],
    ['?until=2024-05-01T00:00:00', ['until']],
    ['?until=2024-02-30T00:00:00Z', ['until']],
    ['?since=2024-05-02T00:00:00Z&until=2024-05-01T00:00:00Z', ['until']],
    ['?dryrun=true', ['dryrun']],
    ['?limit=1&limit=2', ['limit']],
  ])('refuses %s with 400 naming %j', async (query, paths) => {
    const answer = await history(query);
    expect(answer.status).toBe(400);
    expect(answer.body.type).toBe('https://sim-cancel-gateway.dev/problems/invalid-request');
    expect(errorsOf(answer)).toEqual(paths);
  });

  it('takes limits from 1 to 100, 25 by default', async () => {
    expect((await page('?limit=1')).items).toHaveLength(1);
    expect((await page('?limit=100')).items).toHaveLength(idsOf(ALICE).length);
    expect((await page('')).items).toHaveLength(Math.min(25, idsOf(ALICE).length));
  });
});

describe('GET /v1/reports/refunds', () => {
  const revokes = () => idsOf(ALICE, ['revoke-bundle', 'revoke-assignment']);

  beforeAll(async () => {
    // What the refund follow-up will write once eSIM Go's history confirms (shared/operations/esim-go-follow-ups.ts).
    const { documentClient } = await import('../../shared/dynamodb.js');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const confirm = (operationId: string, confirmed: string) =>
      documentClient.send(
        new UpdateCommand({
          TableName: process.env.OPERATIONS_TABLE_NAME,
          Key: { operationId },
          UpdateExpression: 'SET refund.confirmed = :confirmed, refund.checkedAt = :now',
          ExpressionAttributeValues: { ':confirmed': confirmed, ':now': new Date().toISOString() },
        }),
      );
    const [newest, middle] = revokes() as [string, string, string];
    await confirm(newest, 'none');
    await confirm(middle, 'inventory');
  });

  it("lists the caller's eSIM Go revokes with predicted and confirmed refunds, and whether they differ", async () => {
    const answer = await read(refundReportRoute, '/v1/reports/refunds?limit=2');
    expect(answer.status).toBe(200);
    const first = answer.body as unknown as { items: Array<Record<string, unknown>>; nextCursor: string };
    const rest = await read(refundReportRoute, `/v1/reports/refunds?limit=2&cursor=${first.nextCursor}`);
    const rows = [...first.items, ...(rest.body.items as Array<Record<string, unknown>>)];
    expect(rest.body.nextCursor).toBeNull();
    expect(rows.map((row) => row.operationId)).toEqual(revokes());
    expect(
      rows.map(({ operation, predicted, confirmed, mismatch }) => ({ operation, predicted, confirmed, mismatch })),
    ).toEqual([
      { operation: 'revoke-bundle', predicted: 'inventory', confirmed: 'none', mismatch: true },
      { operation: 'revoke-assignment', predicted: 'inventory', confirmed: 'inventory', mismatch: false },
      { operation: 'revoke-bundle', predicted: 'inventory', confirmed: null, mismatch: null },
    ]);
    expect(rows[1]).toMatchObject({ iccid: aliceEsim, bundle: 'b1', assignmentId: '3' });
    expect(rows[2]).toMatchObject({ iccid: aliceEsim, bundle: 'b1', assignmentId: '1', checkedAt: null });
    // Bob sees his own only.
    const bob = await read(refundReportRoute, '/v1/reports/refunds', BOB);
    expect((bob.body.items as Array<{ iccid: string }>).map((row) => row.iccid)).toEqual([bobEsim]);
  });

  it('answers the same rows as CSV (RFC 4180, header row) with Accept: text/csv', async () => {
    const json = (await read(refundReportRoute, '/v1/reports/refunds?limit=100')).body.items as Array<
      Record<string, unknown>
    >;
    const csv = await rawRead(refundReportRoute, {
      method: 'GET',
      path: '/v1/reports/refunds',
      headers: { Accept: 'text/csv' },
      caller: ALICE,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    const [header, ...rows] = parseCsv(csv.body);
    expect(header).toEqual(Object.keys(json[0] ?? {}));
    const asText = (value: unknown) => (value === null ? '' : String(value));
    expect(rows).toEqual(json.map((row) => (header ?? []).map((column) => asText(row[column]))));
    // A range: the same as the JSON form of it.
    const since = String(json[1]?.createdAt);
    const ranged = await rawRead(refundReportRoute, {
      method: 'GET',
      path: `/v1/reports/refunds?since=${since}`,
      headers: { accept: 'application/json;q=0.5, text/csv' },
      caller: ALICE,
    });
    expect(
      parseCsv(ranged.body)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(json.slice(0, 2).map((row) => row.operationId));
    // Nothing in the range: the header alone.
    const empty = await rawRead(refundReportRoute, {
      method: 'GET',
      path: '/v1/reports/refunds?until=2020-01-01T00:00:00Z',
      headers: { accept: 'text/csv' },
      caller: ALICE,
    });
    expect(parseCsv(empty.body)).toEqual([header]);
  });

  it('quotes CSV fields as RFC 4180 says', async () => {
    const { toCsv } = await import('../../shared/history/csv.js');
    const text = toCsv(
      ['a', 'b', 'c'],
      [
        { a: 'x,y', b: 'say "hi"', c: 'two\r\nlines' },
        { a: null, b: true, c: 3 },
      ],
    );
    expect(text).toBe('a,b,c\r\n"x,y","say ""hi""","two\r\nlines"\r\n,true,3\r\n');
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['x,y', 'say "hi"', 'two\r\nlines'],
      ['', 'true', '3'],
    ]);
  });

  it('refuses limit and cursor on the CSV form, and answers JSON for any other Accept', async () => {
    const refused = await rawRead(refundReportRoute, {
      method: 'GET',
      path: '/v1/reports/refunds?limit=5',
      headers: { accept: 'text/csv' },
      caller: ALICE,
    });
    expect(refused.statusCode).toBe(400);
    expect((JSON.parse(refused.body) as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toEqual([
      'limit',
    ]);
    for (const accept of ['*/*', 'application/json', 'text/csv;q=0.1, application/json', 'application/xml'])
      expect((await read(refundReportRoute, '/v1/reports/refunds', ALICE, { accept })).headers['content-type']).toBe(
        'application/json',
      );
  });
});

describe('GET /v1/esims/{iccid}/timeline', () => {
  const timeline = (iccid: string, caller = ALICE) => read(esimTimelineRoute, `/v1/esims/${iccid}/timeline`, caller);
  const historyReads = () => esimGo.server.calls.filter((call) => call.path.endsWith('/history')).length;

  it("merges the caller's operations on an eSIM Go eSIM with eSIM Go's history, newest first", async () => {
    const answer = await timeline(aliceEsim);
    expect(answer.status).toBe(200);
    expect(answer.body.sources).toEqual({ gateway: true, esimGo: 'included' });
    expect(answer.body.truncated).toBe(false);
    const items = answer.body.items as Array<Record<string, unknown> & { at: string; source: string }>;
    expect(items.map((item) => item.at)).toEqual(
      items
        .map((item) => item.at)
        .toSorted()
        .reverse(),
    );
    const gateway = items.filter((item) => item.source === 'gateway' && item.kind === 'operation');
    expect(gateway.map((item) => item.operationId)).toEqual(
      (made[ALICE] ?? [])
        .filter((entry) => entry.iccid === aliceEsim)
        .map((entry) => entry.operationId)
        .reverse(),
    );
    expect(gateway[0]).toMatchObject({ operation: 'revoke-assignment', provider: 'esim-go', status: 'succeeded' });
    const esim = items.filter((item) => item.source === 'esim-go');
    expect(esim.filter((item) => item.name === 'Bundle Revoked')).toHaveLength(2);
    expect(esim.filter((item) => item.name === 'Bundle Applied')).toHaveLength(3);
    expect(esim.every((item) => item.bundleName === 'b1')).toBe(true);
    // eSIM Go's entries of one instant keep the reverse of its order: a refund before the revoke it follows.
    const revoked = esim.find((item) => item.name === 'Bundle Revoked');
    const refunded = esim.find((item) => item.name === 'Bundle Refunded to Inventory' && item.at === revoked?.at);
    expect(refunded).toBeDefined();
    expect(items.indexOf(refunded as (typeof items)[number])).toBeLessThan(
      items.indexOf(revoked as (typeof items)[number]),
    );
  });

  it("still answers the gateway's part when eSIM Go is down, saying so", async () => {
    esimGo.server.injectFault({ kind: 'status', status: 500, method: 'GET', path: `/esims/${aliceEsim}/history` });
    try {
      const answer = await timeline(aliceEsim);
      expect(answer.status).toBe(200);
      expect(answer.body.sources).toMatchObject({
        gateway: true,
        esimGo: 'unavailable',
        esimGoDetail: expect.any(String),
      });
      const items = answer.body.items as Array<{ source: string; kind?: string }>;
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((item) => item.source === 'gateway')).toBe(true);
      expect(items.filter((item) => item.kind === 'operation')).toHaveLength(2);
    } finally {
      esimGo.server.clearFaults();
    }
    esimGo.server.injectFault({ kind: 'reset', method: 'GET', path: `/esims/${aliceEsim}/history` });
    try {
      expect((await timeline(aliceEsim)).body.sources).toMatchObject({ esimGo: 'unavailable' });
    } finally {
      esimGo.server.clearFaults();
    }
  });

  it("does not ask eSIM Go about an eSIM none of the caller's operations is an eSIM Go one on", async () => {
    const before = historyReads();
    const monogotoTimeline = await timeline(monogotoEsim);
    expect(monogotoTimeline.body.sources).toEqual({ gateway: true, esimGo: 'not-an-esim-go-esim' });
    expect((monogotoTimeline.body.items as Array<{ operation: string }>).map((item) => item.operation)).toEqual([
      'cancel-esim',
    ]);
    // Alice's eSIM is nothing to Bob: no items, and eSIM Go is not asked about it.
    expect((await timeline(aliceEsim, BOB)).body).toEqual({
      iccid: aliceEsim,
      items: [],
      sources: { gateway: true, esimGo: 'not-an-esim-go-esim' },
      truncated: false,
    });
    expect(historyReads()).toBe(before);
  });

  it('refuses a malformed ICCID or any query parameter with 400 naming it', async () => {
    const bad = await timeline('8944000000000000018');
    expect(bad.status).toBe(400);
    expect(errorsOf(bad)).toEqual(['iccid']);
    const query = await read(esimTimelineRoute, `/v1/esims/${aliceEsim}/timeline?limit=5`);
    expect(errorsOf(query)).toEqual(['limit']);
  });
});

describe('the local tables (infra/local/dynamodb.ts)', () => {
  it('creates the operations table with both indexes, and leaves one that has them alone', async () => {
    const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
    const { dynamoClient, ensureTables } = await import('../../infra/local/dynamodb.js');
    const client = dynamoClient(inject('dynamoEndpoint'));
    const suffix = Math.random().toString(36).slice(2);
    const names = { idempotency: `idempotency-new-${suffix}`, operations: `operations-new-${suffix}` };
    await ensureTables(client, names);
    const indexes = async (table: string) =>
      ((await client.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? [])
        .map((index) => index.IndexName)
        .sort();
    expect(await indexes(names.operations)).toEqual(['byCaller', 'byCallerTarget']);
    expect(await indexes(names.idempotency)).toEqual([]);
    // Run again: nothing to do.
    await ensureTables(client, names);
    expect(await indexes(names.operations)).toEqual(['byCaller', 'byCallerTarget']);
    client.destroy();
  });
});
