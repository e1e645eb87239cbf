/**
 * The eSIM Go sandbox's returns process (A5, A9), over real HTTP: while it runs, its bundles are refused and (with
 * `readableDuringReturns`) the eSIM's details and history answer; after `returnsProcessMs` it is gone or back in the
 * account. Only Date is faked: the end comes without real time passing, so it is evaluated on read, not by a timer.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSandbox } from '../../sandbox/esim-go/index.js';
import {
  ESIM_GO_SANDBOX_API_KEY,
  type EsimGoSimulator,
  type EsimGoSimulatorOptions,
} from '../../sandbox/esim-go/simulator.js';

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema };
type Operation = { responses: Record<string, { content?: Record<string, { schema: Schema }> }> };

const SPEC_FILE = new URL('../fixtures/esim-go-v2.4.openapi.yaml', import.meta.url).pathname;
const LAST_BUNDLE = '8943108160000804845'; // Released, one queued assignment (401)
const BUNDLE = 'esim_1GB_7D_GB_V2';
const DAY = 86_400_000;
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
const closed = (schema: Schema): object =>
  JSON.parse(JSON.stringify(schema), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as Schema).type === 'object'
      ? { ...value, additionalProperties: false }
      : value,
  ) as object;

let paths: Record<string, Record<string, Operation>>;
const validators = new Map<string, ValidateFunction>();
const started: Array<{ stop: () => Promise<void> }> = [];

const sandbox = async (options: EsimGoSimulatorOptions = {}): Promise<EsimGoSimulator> => {
  const running = await startSandbox({ requestsPerSecond: 1000, readableDuringReturns: true, ...options });
  started.push(running);
  return running.simulator;
};
/** One call, its answer checked against the spec's schema for that operation and status. */
const call = async (sim: EsimGoSimulator, method: string, template: string, path: string) => {
  const response = await fetch(`${sim.server.url}${path}`, {
    method,
    headers: { 'x-api-key': ESIM_GO_SANDBOX_API_KEY },
  });
  const answer = { status: response.status, body: (await response.json()) as unknown };
  const id = `${method} ${template} ${answer.status}`;
  if (!validators.has(id)) {
    const schema =
      paths[template]?.[method.toLowerCase()]?.responses[String(answer.status)]?.content?.['application/json']?.schema;
    expect(schema, `the spec documents ${id}`).toBeDefined();
    // History: a list of ESIMHistory items (A10; the spec's schema says one object).
    const closedSchema = closed(schema as Schema);
    validators.set(
      id,
      ajv.compile(
        template.endsWith('/history') && answer.status === 200 ? { type: 'array', items: closedSchema } : closedSchema,
      ),
    );
  }
  const validate = validators.get(id) as ValidateFunction;
  expect(validate(answer.body), `${id}: ${JSON.stringify(validate.errors)}`).toBe(true);
  return answer;
};
const details = (sim: EsimGoSimulator) => call(sim, 'GET', '/esims/{iccid}', `/esims/${LAST_BUNDLE}`);
const history = (sim: EsimGoSimulator) => call(sim, 'GET', '/esims/{iccid}/history', `/esims/${LAST_BUNDLE}/history`);
const bundles = (sim: EsimGoSimulator) =>
  call(sim, 'GET', '/esims/{iccid}/bundles', `/esims/${LAST_BUNDLE}/bundles?includeUsed=true`);
const bundle = (sim: EsimGoSimulator) =>
  call(sim, 'GET', '/esims/{iccid}/bundles/{name}', `/esims/${LAST_BUNDLE}/bundles/${BUNDLE}`);
const revoke = (sim: EsimGoSimulator) =>
  call(sim, 'DELETE', '/esims/{iccid}/bundles/{name}', `/esims/${LAST_BUNDLE}/bundles/${BUNDLE}`);
const later = (ms: number) => vi.setSystemTime(Date.now() + ms);
const notAccessible = { status: 403, body: { message: expect.stringMatching(/not accessible/) } };

beforeAll(async () => {
  paths = ((await SwaggerParser.dereference(SPEC_FILE)) as unknown as { paths: typeof paths }).paths;
});
afterAll(async () => Promise.all(started.map((running) => running.stop())));
beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

describe('eSIM Go sandbox returns process', () => {
  it('by default refuses every call at once, the details too (A9)', async () => {
    const sim = await sandbox({ readableDuringReturns: undefined });
    await revoke(sim);
    expect(sim.esim(LAST_BUNDLE)?.returns).toBeDefined();
    expect(await details(sim)).toMatchObject(notAccessible);
    expect(await history(sim)).toMatchObject(notAccessible);
    expect(await bundles(sim)).toMatchObject(notAccessible);
  });

  it('starts when a revoke leaves an uninstalled eSIM without bundles: details and history answer, bundles are refused', async () => {
    const sim = await sandbox();
    expect(await revoke(sim)).toMatchObject({ status: 200 });
    expect(sim.esim(LAST_BUNDLE)?.inAccount).toBe(false);
    expect(await details(sim)).toMatchObject({ status: 200, body: { iccid: LAST_BUNDLE, profileStatus: 'Released' } });
    expect((await history(sim)).body).toEqual([
      expect.objectContaining({ name: 'Bundle Applied' }),
      expect.objectContaining({ name: 'Bundle Revoked' }),
      expect.objectContaining({ name: 'Bundle Refunded to Inventory' }),
    ]);
    expect(await bundles(sim)).toMatchObject(notAccessible);
    expect(await bundle(sim)).toMatchObject(notAccessible);
    expect(await revoke(sim)).toMatchObject(notAccessible);
  });

  it('lasts 4 days by default, then the eSIM is gone: every call 403, with "eSIM Returned" in its history', async () => {
    const sim = await sandbox();
    const revokedAt = Date.now();
    await revoke(sim);
    later(4 * DAY - 1);
    expect(await details(sim)).toMatchObject({ status: 200 });
    later(1);
    expect(await details(sim)).toMatchObject(notAccessible);
    expect(await history(sim)).toMatchObject(notAccessible);
    expect(await bundles(sim)).toMatchObject(notAccessible);
    expect(sim.esim(LAST_BUNDLE)?.inAccount).toBe(false);
    expect(sim.esim(LAST_BUNDLE)?.history?.at(-1)).toEqual({
      name: 'eSIM Returned',
      bundleName: '',
      date: new Date(revokedAt + 4 * DAY).toISOString(),
    });
  });

  it('with returnsEndAs back_in_account, the eSIM answers again normally after returnsProcessMs', async () => {
    const sim = await sandbox({ returnsProcessMs: 500, returnsEndAs: 'back_in_account' });
    await revoke(sim);
    later(499);
    expect(await bundles(sim)).toMatchObject(notAccessible);
    later(1);
    expect(await details(sim)).toMatchObject({ status: 200, body: { profileStatus: 'Released' } });
    expect(await bundles(sim)).toMatchObject({
      status: 200,
      body: { bundles: [{ name: BUNDLE, assignments: [{ id: '401', bundleState: 'revoked' }] }] },
    });
    expect(sim.esim(LAST_BUNDLE)).toMatchObject({ inAccount: true });
    expect(sim.esim(LAST_BUNDLE)?.returns).toBeUndefined();
    expect((await history(sim)).body).not.toContainEqual(expect.objectContaining({ name: 'eSIM Returned' }));
  });

  it.each([
    ['gone', 'back_in_account', 200],
    ['back_in_account', 'gone', 403],
  ] as const)(
    'an eSIM overrides the option (%s) with its own returnsEndAs (%s)',
    async (option, own, detailsStatus) => {
      const sim = await sandbox({ returnsProcessMs: 500, returnsEndAs: option });
      const esim = sim.esim(LAST_BUNDLE);
      if (esim !== undefined) esim.returnsEndAs = own;
      await revoke(sim);
      later(500);
      expect((await details(sim)).status).toBe(detailsStatus);
      expect(sim.esim(LAST_BUNDLE)?.inAccount).toBe(own === 'back_in_account');
    },
  );

  it('does not start for an installed eSIM, or one that keeps a live bundle', async () => {
    const sim = await sandbox({ returnsProcessMs: 0 });
    const twoUnused = '8943108165015003887';
    await call(sim, 'DELETE', '/esims/{iccid}/bundles/{name}', `/esims/${twoUnused}/bundles/${BUNDLE}`);
    expect(sim.esim(twoUnused)).toMatchObject({ inAccount: true });
    expect(sim.esim(twoUnused)?.returns).toBeUndefined();
    const installed = '8944538532008160222';
    await call(sim, 'DELETE', '/esims/{iccid}/bundles/{name}', `/esims/${installed}/bundles/${BUNDLE}`);
    await call(
      sim,
      'DELETE',
      '/esims/{iccid}/bundles/{name}/assignments/{assignmentId}',
      `/esims/${installed}/bundles/esim_3GB_30D_EU_V2/assignments/302`,
    );
    expect(sim.esim(installed)).toMatchObject({ inAccount: true });
    expect((await call(sim, 'GET', '/esims/{iccid}/bundles', `/esims/${installed}/bundles`)).status).toBe(200);
  });

  it('shows the returns process in /__sim/state', async () => {
    const sim = await sandbox({ returnsProcessMs: 500 });
    const revokedAt = Date.now();
    await revoke(sim);
    const state = (await (await fetch(`${sim.server.url}/__sim/state`)).json()) as {
      esims: Array<{ iccid: string; inAccount: boolean; returns?: unknown }>;
    };
    expect(state.esims.find((esim) => esim.iccid === LAST_BUNDLE)).toMatchObject({
      inAccount: false,
      returns: { startedAt: revokedAt, endsAt: revokedAt + 500 },
    });
  });
});
