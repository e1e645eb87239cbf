/**
 * The sTN sandbox's S4: a CANCELLING activation moves on by itself, evaluated on read. Only Date is faked, so the
 * HTTP stack runs for real while the simulator's clock jumps: a move that happens without any real time passing is
 * one computed on read, not by a timer.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { StnClient } from '../../shared/providers/stn/client.js';
import { startSandbox } from '../../sandbox/stn/index.js';
import {
  CANCELLING_SETTLES_AFTER_MS,
  STN_SANDBOX_API_KEY,
  type StnSimulator,
  activation,
  createStnSimulator,
} from '../../sandbox/stn/simulator.js';

const BUSY = 'q7LmXw2RgxhI5Zvz';
const simulator = createStnSimulator();

const post = async (sim: StnSimulator, activationId: string) => {
  const response = await fetch(`${sim.server.url}/api/CancelNewSubscription`, {
    method: 'POST',
    headers: { 'stn-api-key': STN_SANDBOX_API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ activationId }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const query = async (sim: StnSimulator, filters: Record<string, string>) => {
  const response = await fetch(`${sim.server.url}/api/QueryActivation?${new URLSearchParams(filters)}`, {
    headers: { 'stn-api-key': STN_SANDBOX_API_KEY },
  });
  return (await response.json()) as { total: number; results: Array<Record<string, unknown>> };
};
const statusOf = async (sim: StnSimulator, id: string) => (await query(sim, { id })).results[0]?.status;
const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

beforeAll(async () => simulator.server.start());
afterAll(async () => simulator.server.stop());
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  simulator.reset();
});
afterEach(() => vi.useRealTimers());

describe('sTN sandbox: CANCELLING moves on (S4)', () => {
  it('by default to CANCELLED after CANCELLING_SETTLES_AFTER_MS, dated when it moved, found by id and by status', async () => {
    const cancelledAt = Date.now();
    expect(await post(simulator, BUSY)).toMatchObject({ status: 200, body: { status: 'CANCELLING' } });
    later(CANCELLING_SETTLES_AFTER_MS - 1);
    expect(await statusOf(simulator, BUSY)).toBe('CANCELLING');
    later(1);
    const [settled] = (await query(simulator, { id: BUSY })).results;
    expect(settled).toMatchObject({ id: BUSY, status: 'CANCELLED' });
    expect(settled?.modifiedAt).toBe(new Date(cancelledAt + CANCELLING_SETTLES_AFTER_MS).toISOString());
    expect((await query(simulator, { status: 'CANCELLED' })).results.map((record) => record.id)).toEqual([BUSY]);
    expect((await query(simulator, { status: 'CANCELLING' })).total).toBe(0);
  });

  it('answers only sTN fields: the settle bookkeeping never reaches the wire', async () => {
    simulator.addActivation(activation('wireOnly0000001', 'BUSY', { settlesTo: 'DONE', settlesAfterMs: 10 }));
    const answer = await post(simulator, 'wireOnly0000001');
    const [queried] = (await query(simulator, { id: 'wireOnly0000001' })).results;
    for (const body of [answer.body, queried]) {
      expect(body).toMatchObject({ id: 'wireOnly0000001', status: 'CANCELLING' });
      for (const field of ['settling', 'settlesTo', 'settlesAfterMs', 'notes']) expect(body).not.toHaveProperty(field);
    }
  });

  it.each(['DONE', 'ERROR', 'CANCELLED', 'ROLLED_BACK'])(
    'an activation overriding its end moves to %s at its own time',
    async (settlesTo) => {
      const id = `override${settlesTo}`;
      simulator.addActivation(activation(id, 'BUSY', { settlesTo, settlesAfterMs: 300 }));
      await post(simulator, id);
      later(299);
      expect(await statusOf(simulator, id)).toBe('CANCELLING');
      later(1);
      expect(await statusOf(simulator, id)).toBe(settlesTo);
      // The gateway's own client reads it by id.
      const client = new StnClient({
        baseUrl: simulator.server.url,
        timeoutMs: 1000,
        apiKey: async () => STN_SANDBOX_API_KEY,
      });
      expect(await client.queryActivation(id)).toMatchObject({ ok: true, activation: { id, status: settlesTo } });
    },
  );

  it('keeps the age argument: a number is still days ago', () => {
    const record = activation('aged00000000001', 'DONE', 5);
    expect(Date.now() - Date.parse(record.createdAt)).toBe(5 * 86_400_000);
    expect(record).not.toHaveProperty('settlesTo');
  });

  it('refuses a second cancel with the status it moved to (S1), and shows it in /__sim/state and the accessors', async () => {
    await post(simulator, BUSY);
    later(CANCELLING_SETTLES_AFTER_MS);
    expect(simulator.activation(BUSY)?.status).toBe('CANCELLED');
    const state = (await (await fetch(`${simulator.server.url}/__sim/state`)).json()) as {
      activations: Array<{ id: string; status: string }>;
    };
    expect(state.activations.find((record) => record.id === BUSY)?.status).toBe('CANCELLED');
    const again = await post(simulator, BUSY);
    expect(again).toMatchObject({ status: 400, body: { responseStatus: { errorCode: 'InvalidState' } } });
    expect(JSON.stringify(again.body)).toContain('has status CANCELLED');
    expect(simulator.cancellations()).toHaveLength(1);
  });

  it('moves only cancelled activations, and not one whose status was set meanwhile', async () => {
    await post(simulator, BUSY);
    const record = simulator.activation(BUSY);
    if (record !== undefined) record.status = 'DONE';
    later(CANCELLING_SETTLES_AFTER_MS);
    expect(await statusOf(simulator, BUSY)).toBe('DONE');
    expect(await statusOf(simulator, 'a9Fh2JkL0pZx7TbN')).toBe('INIT');
  });
});

describe('sTN sandbox options', () => {
  it('cancellingSettlesAfterMs and cancellingSettlesTo reach the simulator through startSandbox', async () => {
    const running = await startSandbox({ cancellingSettlesAfterMs: 50, cancellingSettlesTo: 'ERROR' });
    try {
      await post(running.simulator, BUSY);
      later(49);
      expect(await statusOf(running.simulator, BUSY)).toBe('CANCELLING');
      later(1);
      expect(await statusOf(running.simulator, BUSY)).toBe('ERROR');
    } finally {
      await running.stop();
    }
  });
});
