/** Monogoto client: every way a call can end maps to exactly one outcome (real sockets, no mocks). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MonogotoClient, classifyExecution } from '../../shared/providers/monogoto/client.js';
import { unusedPort } from '../../testkit/ports.js';
import {
  MONOGOTO_SANDBOX_CREDENTIALS,
  MONOGOTO_SANDBOX_ESIMS,
  createMonogotoSimulator,
} from '../../sandbox/monogoto/simulator.js';

const simulator = createMonogotoSimulator({ tokenTtlSeconds: 3600 });
const released = MONOGOTO_SANDBOX_ESIMS.find((esim) => esim.state === 'released');
if (released === undefined) throw new Error('the sandbox has a released eSIM');

const client = (overrides: Partial<ConstructorParameters<typeof MonogotoClient>[0]> = {}) =>
  new MonogotoClient({
    baseUrl: simulator.server.url,
    timeoutMs: 300,
    credentials: async () => MONOGOTO_SANDBOX_CREDENTIALS,
    ...overrides,
  });

const cancelReleased = (monogoto: MonogotoClient) =>
  monogoto.cancelEsim({ iccid: released.iccid, matchingId: released.matchingId ?? '' });

beforeAll(async () => {
  await simulator.server.start();
});
afterAll(async () => {
  await simulator.server.stop();
});
beforeEach(() => {
  simulator.reset();
});

describe('MonogotoClient.cancelEsim', () => {
  it('succeeds on Executed-Success and logs in once for several calls', async () => {
    const monogoto = client();
    expect((await cancelReleased(monogoto)).kind).toBe('succeeded');
    expect((await cancelReleased(monogoto)).kind).toBe('rejected');
    expect(simulator.logins).toBe(1);
  });

  it('sends the bearer token and the documented body', async () => {
    await cancelReleased(client());
    const call = simulator.server.callsTo('/api/v1/eSIM/cancel')[0];
    expect(call?.authorized).toBe(true);
    expect(call?.body).toEqual({ iccid: released.iccid, matchingId: released.matchingId });
  });

  it('logs in again when its cached token nears expiry', async () => {
    let now = Date.now();
    const monogoto = client({ now: () => now });
    await cancelReleased(monogoto);
    now += 3600 * 1000 - 30 * 1000; // inside the one-minute margin before `exp`
    await cancelReleased(monogoto);
    expect(simulator.logins).toBe(2);
  });

  it('re-logs in exactly once on 401 and gives up with not_sent on a second 401', async () => {
    const monogoto = client();
    await cancelReleased(monogoto);
    simulator.expireTokens();
    simulator.reset();
    const outcome = await cancelReleased(monogoto);
    expect(outcome.kind).toBe('succeeded');
    simulator.server.injectFault({ kind: 'status', status: 401, path: '/api/v1/eSIM/cancel', times: 2 });
    const refused = await cancelReleased(monogoto);
    expect(refused).toMatchObject({ kind: 'not_sent', reason: expect.stringContaining('401') });
  });

  it('makes at most three calls in a row: a 401 right after a fresh login is final, with no second login', async () => {
    const monogoto = client();
    simulator.server.injectFault({ kind: 'status', status: 401, path: '/api/v1/eSIM/cancel' });
    const refused = await cancelReleased(monogoto);
    expect(refused).toMatchObject({
      kind: 'not_sent',
      credentialsRefused: true,
      reason: expect.stringContaining('fresh access token'),
    });
    expect(simulator.logins).toBe(1);
    expect(simulator.server.callsTo('/api/v1/eSIM/cancel')).toHaveLength(1);
  });

  it('reports wrong credentials as not_sent without echoing the password', async () => {
    const outcome = await cancelReleased(
      client({ credentials: async () => ({ username: 'u', password: 'hunter2-secret' }) }),
    );
    expect(outcome.kind).toBe('not_sent');
    expect(JSON.stringify(outcome)).not.toContain('hunter2-secret');
    expect(simulator.server.callsTo('/api/v1/eSIM/cancel')).toHaveLength(0);
  });

  it('reports a throttled login as throttled', async () => {
    simulator.server.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 42, path: '/v1/auth/token' });
    expect(await cancelReleased(client())).toMatchObject({ kind: 'throttled', retryAfterSeconds: 42 });
  });

  it.each([
    ['a 500', { kind: 'status', status: 500 }, { kind: 'unknown', timedOut: false }],
    ['a 5xx after applying', { kind: 'apply-then-status', status: 503 }, { kind: 'unknown', timedOut: false }],
    ['a hang', { kind: 'hang' }, { kind: 'unknown', timedOut: true }],
    ['an answer lost after applying', { kind: 'apply-then-hang' }, { kind: 'unknown', timedOut: true }],
    ['a connection reset', { kind: 'reset' }, { kind: 'unknown', timedOut: false }],
    ['an HTML answer', { kind: 'apply-then-garbage' }, { kind: 'unknown', timedOut: false }],
    ['a 429', { kind: 'status', status: 429, retryAfterSeconds: 3 }, { kind: 'throttled', retryAfterSeconds: 3 }],
  ] as const)('classifies %s', async (_label, fault, expected) => {
    const monogoto = client();
    await monogoto.cancelEsim({ iccid: '8944000000000000043', matchingId: 'warm-up' }); // logs in
    simulator.server.injectFault({ ...fault, path: '/api/v1/eSIM/cancel' });
    expect(await cancelReleased(monogoto)).toMatchObject(expected);
  });

  it('reports a refused connection as not_sent', async () => {
    const port = await unusedPort();
    expect(await cancelReleased(client({ baseUrl: `http://127.0.0.1:${port}` }))).toMatchObject({
      kind: 'not_sent',
      reason: expect.stringContaining('login'),
    });
  });
});

describe('classifyExecution', () => {
  const answered = (status: number, body: unknown) => ({
    kind: 'answered' as const,
    status,
    headers: new Headers(),
    body,
    bodyIsJson: true,
  });

  it('treats a failed functionExecutionStatus as a rejection', () => {
    expect(
      classifyExecution(answered(200, { data: { header: { functionExecutionStatus: { status: 'Failed' } } } })),
    ).toMatchObject({ kind: 'rejected' });
  });

  it('accepts Executed-WithWarning as success', () => {
    expect(
      classifyExecution(
        answered(200, { data: { header: { functionExecutionStatus: { status: 'Executed-WithWarning' } } } }),
      ).kind,
    ).toBe('succeeded');
  });

  it('takes the message from either of Monogoto error shapes', () => {
    expect(classifyExecution(answered(400, { error: 'Invalid ICCID format' }))).toMatchObject({
      kind: 'rejected',
      message: 'Invalid ICCID format',
    });
    expect(classifyExecution(answered(403, { status_code: 403, message: 'Forbidden', request_id: 'r' }))).toMatchObject(
      { kind: 'rejected', message: 'Forbidden' },
    );
  });
});
