/** sTN client and simulator: the documented shapes and inconsistencies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StnClient } from '../../shared/providers/stn/client.js';
import { providerEnvironment, stnErrorMessage } from '../../shared/providers/stn/schemas.js';
import { STN_SANDBOX_API_KEY, createStnSimulator } from '../../sandbox/stn/simulator.js';

const simulator = createStnSimulator();
const client = (apiKey = STN_SANDBOX_API_KEY) =>
  new StnClient({ baseUrl: simulator.server.url, timeoutMs: 1000, apiKey: async () => apiKey });

beforeAll(async () => simulator.server.start());
afterAll(async () => simulator.server.stop());

describe('sTN', () => {
  it('reads either spelling of providerEnvironment', () => {
    expect(providerEnvironment({ id: 'a', status: 'BUSY', providerEnvrionment: 'SP16001' })).toBe('SP16001');
    expect(providerEnvironment({ id: 'a', status: 'BUSY', providerEnvironment: 'SP16002' })).toBe('SP16002');
  });

  it('queries one activation through the AutoQuery envelope, tolerating statuses beyond the documented four', async () => {
    const lookup = await client().queryActivation('a9Fh2JkL0pZx7TbN');
    expect(lookup).toMatchObject({ ok: true, activation: { id: 'a9Fh2JkL0pZx7TbN', status: 'INIT' } });
    expect(simulator.server.calls.at(-1)?.query).toEqual({ id: 'a9Fh2JkL0pZx7TbN' });
    expect(await client().queryActivation('nope')).toMatchObject({ ok: true, activation: null });
  });

  it('sends stn-api-key and reports a refused key as credentialsRefused, never as a rejection', async () => {
    expect(await client('wrong').cancelNewSubscription({ activationId: 'q7LmXw2RgxhI5Zvz' })).toMatchObject({
      kind: 'not_sent',
      credentialsRefused: true,
    });
    expect(simulator.server.calls.at(-1)?.authorized).toBe(true);
  });

  it("turns ServiceStack's responseStatus into one readable message with field errors", () => {
    expect(
      stnErrorMessage({
        responseStatus: {
          errorCode: 'MaximumLength',
          message: 'Too long',
          errors: [{ errorCode: 'MaximumLength', fieldName: 'Note', message: 'max 164' }],
        },
      }),
    ).toBe('MaximumLength - Too long - Note: max 164');
  });

  it("answers sTN's own validation error for a note over 164 characters", async () => {
    const answer = await fetch(`${simulator.server.url}/api/CancelNewSubscription`, {
      method: 'POST',
      headers: { 'stn-api-key': STN_SANDBOX_API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ activationId: 'q7LmXw2RgxhI5Zvz', note: 'x'.repeat(165) }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({
      responseStatus: { errorCode: 'MaximumLength', errors: [{ fieldName: 'Note' }] },
    });
  });
});
