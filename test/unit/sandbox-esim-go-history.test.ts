/**
 * The eSIM Go sandbox's `GET /esims/{iccid}/history` (A10), over real HTTP: every answer validates against the
 * official v2.4 file's ESIMHistory (closed, as in esim-go-spec.test.ts), entries come oldest first, and a refund
 * entry appears only when the revoke really refunded, `refundEntryDelayMs` after it.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EsimGoClient } from '../../shared/providers/esim-go/client.js';
import { RateLimiter } from '../../shared/providers/rate-limit.js';
import { startSandbox } from '../../sandbox/esim-go/index.js';
import {
  ESIM_GO_SANDBOX_API_KEY,
  type EsimGoSimulator,
  type EsimGoSimulatorOptions,
  assignment,
} from '../../sandbox/esim-go/simulator.js';

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema };
interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, Content> }> }>>;
  components: { schemas: Record<string, Schema> };
}
type Content = { schema: Schema; example?: unknown };
interface Entry {
  name: string;
  bundleName: string;
  date: string;
}

const SPEC_FILE = new URL('../fixtures/esim-go-v2.4.openapi.yaml', import.meta.url).pathname;
const TWO_UNUSED = '8943108165015003887'; // 243 (3 days old) and 245 (1 day old), both queued
const INSTALLED = '8944538532008160222'; // 301 queued, 302 active (started)
const BUNDLE = 'esim_1GB_7D_GB_V2';
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const closed = (schema: Schema): object =>
  JSON.parse(JSON.stringify(schema), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as Schema).type === 'object'
      ? { ...value, additionalProperties: false }
      : value,
  ) as object;

let raw: Spec;
let historyItems: ValidateFunction;
let messageSchema: ValidateFunction;
const started: Array<{ stop: () => Promise<void> }> = [];

const sandbox = async (options: EsimGoSimulatorOptions = {}): Promise<EsimGoSimulator> => {
  const running = await startSandbox({ requestsPerSecond: 1000, ...options });
  started.push(running);
  return running.simulator;
};
const call = async (sim: EsimGoSimulator, method: string, path: string) => {
  const response = await fetch(`${sim.server.url}${path}`, {
    method,
    headers: { 'x-api-key': ESIM_GO_SANDBOX_API_KEY },
  });
  return { status: response.status, body: (await response.json()) as unknown };
};
/** The history answer, checked against the spec before anything else looks at it. */
const history = async (sim: EsimGoSimulator, iccid: string): Promise<Entry[]> => {
  const answer = await call(sim, 'GET', `/esims/${iccid}/history`);
  expect(answer.status).toBe(200);
  expect(historyItems(answer.body), JSON.stringify(historyItems.errors)).toBe(true);
  return answer.body as Entry[];
};
const names = (entries: Entry[]) => entries.map((item) => `${item.name} ${item.bundleName}`);
const revoke = (sim: EsimGoSimulator, iccid: string, name: string, query = '') =>
  call(sim, 'DELETE', `/esims/${iccid}/bundles/${name}${query}`);

beforeAll(async () => {
  raw = (await SwaggerParser.parse(SPEC_FILE)) as unknown as Spec;
  const spec = (await SwaggerParser.dereference(SPEC_FILE)) as unknown as Spec;
  const item = spec.components.schemas.ESIMHistory as Schema;
  // A10: a list of ESIMHistory items (see the spec quirk below).
  historyItems = ajv.compile({ type: 'array', items: closed(item) });
  messageSchema = ajv.compile(closed(spec.components.schemas.Message as Schema));
});
afterAll(async () => Promise.all(started.map((running) => running.stop())));
afterEach(() => vi.useRealTimers());

describe('eSIM Go sandbox history: the spec', () => {
  it('knows the spec quirk it follows: ESIMHistory is one object, yet the operation is "a chronological list" whose example is an array', () => {
    const content = raw.paths['/esims/{iccid}/history']?.get?.responses['200']?.content?.['application/json'];
    expect(raw.components.schemas.ESIMHistory?.type).toBe('object');
    expect(Object.keys(raw.components.schemas.ESIMHistory?.properties ?? {}).sort()).toEqual([
      'bundleName',
      'date',
      'name',
    ]);
    expect(Array.isArray(content?.example)).toBe(true);
    expect(historyItems(content?.example), JSON.stringify(historyItems.errors)).toBe(true);
  });
});

describe('eSIM Go sandbox history: entries', () => {
  it('starts with a "Bundle Applied" per assignment, at its assignment time, oldest first', async () => {
    const sim = await sandbox();
    const assignments = sim.esim(TWO_UNUSED)?.bundles[0]?.assignments ?? [];
    expect(await history(sim, TWO_UNUSED)).toEqual(
      assignments.map((a) => ({ name: 'Bundle Applied', bundleName: BUNDLE, date: a.assignmentDateTime })),
    );
    expect(assignments).toHaveLength(2);
  });

  it('gives an eSIM added without a history its assignments as "Bundle Applied"', async () => {
    const sim = await sandbox({ seed: false });
    const newer = assignment('2', 'queued', 1);
    const older = assignment('1', 'queued', 5);
    sim.addEsim({
      iccid: '8944000000000000027',
      profileStatus: 'Installed',
      inAccount: true,
      bundles: [{ name: 'b1', description: 'b1', assignments: [newer, older] }],
    });
    expect((await history(sim, '8944000000000000027')).map((item) => item.date)).toEqual([
      older.assignmentDateTime,
      newer.assignmentDateTime,
    ]);
  });

  it('a refunding revoke (the sandbox default, as the try-it request does) adds "Bundle Revoked", then "Bundle Refunded to Inventory"', async () => {
    const sim = await sandbox();
    const before = Date.now();
    expect(await revoke(sim, TWO_UNUSED, BUNDLE)).toMatchObject({
      status: 200,
      body: { status: expect.stringMatching(/refunded to inventory/) },
    });
    const entries = await history(sim, TWO_UNUSED);
    expect(names(entries)).toEqual([
      `Bundle Applied ${BUNDLE}`,
      `Bundle Applied ${BUNDLE}`,
      `Bundle Revoked ${BUNDLE}`,
      `Bundle Refunded to Inventory ${BUNDLE}`,
    ]);
    const [revoked, refunded] = entries.slice(2).map((item) => Date.parse(item.date));
    expect(revoked).toBeGreaterThanOrEqual(before);
    expect(refunded).toBeGreaterThanOrEqual(revoked ?? Infinity);
    expect(sim.revocations()).toEqual([expect.objectContaining({ assignmentId: '243', refund: 'inventory' })]);
  });

  it('a revoke refunded to balance adds "Bundle Refunded To Balance"', async () => {
    const sim = await sandbox();
    await revoke(sim, TWO_UNUSED, BUNDLE, '?refundToBalance=true&offerId=243');
    expect(names(await history(sim, TWO_UNUSED)).slice(2)).toEqual([
      `Bundle Revoked ${BUNDLE}`,
      `Bundle Refunded To Balance ${BUNDLE}`,
    ]);
  });

  it('without refunds for the organisation: "Bundle Revoked" and no refund entry', async () => {
    const sim = await sandbox({ refundsEnabled: false });
    expect(await revoke(sim, TWO_UNUSED, BUNDLE)).toMatchObject({
      status: 200,
      body: { status: expect.stringMatching(/no refund/) },
    });
    expect(names(await history(sim, TWO_UNUSED)).slice(2)).toEqual([`Bundle Revoked ${BUNDLE}`]);
  });

  it('a started bundle, or one assigned over 60 days ago, gets no refund entry either', async () => {
    const sim = await sandbox();
    await call(sim, 'DELETE', `/esims/${INSTALLED}/bundles/esim_3GB_30D_EU_V2/assignments/302`);
    expect(names(await history(sim, INSTALLED)).slice(-1)).toEqual(['Bundle Revoked esim_3GB_30D_EU_V2']);
    sim.addEsim({
      iccid: '8944000000000000035',
      profileStatus: 'Installed',
      inAccount: true,
      bundles: [{ name: 'old', description: 'old', assignments: [assignment('9', 'queued', 61)] }],
    });
    await revoke(sim, '8944000000000000035', 'old');
    expect(names(await history(sim, '8944000000000000035'))).toEqual(['Bundle Applied old', 'Bundle Revoked old']);
  });

  it('a validate revoke adds nothing', async () => {
    const sim = await sandbox();
    await revoke(sim, TWO_UNUSED, BUNDLE, '?type=validate');
    expect(await history(sim, TWO_UNUSED)).toHaveLength(2);
  });

  it('with refundEntryDelayMs the refund entry is not there yet, then appears dated that long after the revoke', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sim = await sandbox({ refundEntryDelayMs: 60_000 });
    const revokedAt = Date.now();
    await revoke(sim, TWO_UNUSED, BUNDLE);
    expect(names(await history(sim, TWO_UNUSED)).slice(2)).toEqual([`Bundle Revoked ${BUNDLE}`]);
    vi.setSystemTime(revokedAt + 59_999);
    expect(await history(sim, TWO_UNUSED)).toHaveLength(3);
    vi.setSystemTime(revokedAt + 60_000);
    const refund = (await history(sim, TWO_UNUSED)).at(-1);
    expect(refund).toEqual({
      name: 'Bundle Refunded to Inventory',
      bundleName: BUNDLE,
      date: new Date(revokedAt + 60_000).toISOString(),
    });
  });

  it("is what the gateway's client reads", async () => {
    const sim = await sandbox();
    await revoke(sim, TWO_UNUSED, BUNDLE);
    const client = new EsimGoClient({
      baseUrl: sim.server.url,
      timeoutMs: 2000,
      apiKey: async () => ESIM_GO_SANDBOX_API_KEY,
      limiter: new RateLimiter(1000),
    });
    expect(await client.history(TWO_UNUSED)).toMatchObject({ ok: true, data: await history(sim, TWO_UNUSED) });
  });

  it('answers an unknown eSIM with 403 "not accessible" in the Message schema', async () => {
    const sim = await sandbox();
    const answer = await call(sim, 'GET', '/esims/8900000000000000000/history');
    expect(answer.status).toBe(403);
    expect(messageSchema(answer.body)).toBe(true);
    expect(answer.body).toEqual({ message: expect.stringMatching(/not accessible/) });
  });
});
