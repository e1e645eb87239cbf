/**
 * A stateful Monogoto eSIM API, faithful to what Monogoto documents (see docs/providers.md, Monogoto):
 * - `POST /v1/auth/token` `{username, password}` → `{token_type, access_token, refresh_token}` (JWT-shaped,
 *   with `exp`); portal-style 401 `{status_code, message, request_id}` for bad credentials.
 * - `POST /api/v1/eSIM/download` `{iccid}`: only from `available`; mints a new 24-character matchingId → `released`.
 * - `POST /api/v1/eSIM/cancel` `{iccid, matchingId}`: only from `released` with the current matchingId →
 *   `available` (assumption: Monogoto does not say which state follows; ES2+ CancelOrder usually returns the
 *   profile to Available so it can be downloaded again).
 * - Errors as Monogoto sends them on these endpoints: `{"error": "..."}` with 400 (also for an unknown ICCID and a
 *   wrong matchingId, which Monogoto does not document separately), 401 without a valid bearer token.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { withLuhnCheckDigit } from '../../shared/iccid.js';
import { type SimRequest, type SimResponse, SimulatorServer } from '../server.js';

export type MonogotoEsimState = 'available' | 'released';

export interface MonogotoEsim {
  iccid: string;
  state: MonogotoEsimState;
  matchingId: string | undefined;
}

export interface MonogotoSimulatorOptions {
  latencyMs?: number;
  tokenTtlSeconds?: number;
  username?: string;
  password?: string;
  /** Start with the sandbox records (a few released eSIMs and one available). Default true. */
  seed?: boolean;
}

export const MONOGOTO_SANDBOX_CREDENTIALS = { username: 'sandbox@example.com', password: 'sandbox-password' };

/** The sandbox's ready-made eSIMs: printed by `npm start` so its example requests work as pasted. */
export const MONOGOTO_SANDBOX_ESIMS: readonly MonogotoEsim[] = [
  { iccid: withLuhnCheckDigit('894400000000000001'), state: 'released', matchingId: 'DDYSX7MJYEKHIXYGK3PU5GEQ' },
  { iccid: withLuhnCheckDigit('894400000000000002'), state: 'released', matchingId: 'K7Q2M9XW4RT8NB3VZP6HJC5L' },
  { iccid: withLuhnCheckDigit('894400000000000003'), state: 'released', matchingId: 'A1B2C3D4E5F6G7H8J9K0LMNP' },
  { iccid: withLuhnCheckDigit('894400000000000004'), state: 'available', matchingId: undefined },
];

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const newMatchingId = () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(24), (byte) => alphabet[byte % alphabet.length]).join('');
};
const error = (status: number, message: string): SimResponse => ({ status, body: { error: message } });
const executed = (extra: Record<string, unknown> = {}): SimResponse => ({
  status: 200,
  body: { data: { header: { functionExecutionStatus: { status: 'Executed-Success' } }, ...extra } },
});

export const createMonogotoSimulator = (options: MonogotoSimulatorOptions = {}) => {
  const credentials = {
    username: options.username ?? MONOGOTO_SANDBOX_CREDENTIALS.username,
    password: options.password ?? MONOGOTO_SANDBOX_CREDENTIALS.password,
  };
  const esims = new Map<string, MonogotoEsim>();
  const tokens = new Map<string, number>();
  const issued: string[] = [];
  const cancellations: Array<{ iccid: string; matchingId: string; at: number }> = [];
  let logins = 0;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 4 * 60 * 60;

  const reset = () => {
    esims.clear();
    tokens.clear();
    cancellations.length = 0;
    logins = 0;
    if (options.seed ?? true) for (const esim of MONOGOTO_SANDBOX_ESIMS) esims.set(esim.iccid, { ...esim });
  };
  reset();

  const authorized = (request: SimRequest): boolean => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const expiresAt = tokens.get(token);
    return expiresAt !== undefined && expiresAt > Date.now();
  };

  const readIccid = (request: SimRequest): string | SimResponse => {
    const body = request.body as { iccid?: unknown } | undefined;
    if (typeof body !== 'object' || body === null) return error(400, 'Missing parameters');
    if (typeof body.iccid !== 'string') return error(400, 'Missing parameter: iccid');
    if (!/^\d{19,20}$/.test(body.iccid)) return error(400, 'Invalid ICCID format');
    return body.iccid;
  };

  const server = new SimulatorServer(
    'monogoto',
    [
      {
        method: 'POST',
        path: '/v1/auth/token',
        handle: (request) => {
          const body = request.body as { username?: unknown; password?: unknown } | undefined;
          if (body?.username !== credentials.username || body?.password !== credentials.password) {
            return {
              status: 401,
              body: { status_code: 401, message: 'Invalid username or password', request_id: randomUUID() },
            };
          }
          logins += 1;
          const expiresAt = Date.now() + tokenTtlSeconds * 1000;
          const payload = {
            sub: credentials.username,
            iat: Math.floor(Date.now() / 1000),
            exp: Math.floor(expiresAt / 1000),
            jti: randomUUID(),
          };
          const accessToken = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(payload)}.${randomBytes(16).toString('base64url')}`;
          tokens.set(accessToken, expiresAt);
          issued.push(accessToken);
          return {
            status: 200,
            body: {
              token_type: 'Bearer',
              access_token: accessToken,
              refresh_token: randomBytes(32).toString('base64url'),
            },
          };
        },
      },
      {
        method: 'POST',
        path: '/api/v1/eSIM/download',
        handle: (request) => {
          if (!authorized(request)) return { status: 401, body: { error: 'Token has expired or is invalid' } };
          const iccid = readIccid(request);
          if (typeof iccid !== 'string') return iccid;
          const esim = esims.get(iccid);
          if (esim === undefined) return error(400, `ICCID ${iccid} not found`);
          if (esim.state !== 'available') return error(400, `eSIM state is ${esim.state}, expected available`);
          esim.state = 'released';
          esim.matchingId = newMatchingId();
          return executed({ matchingId: esim.matchingId });
        },
      },
      {
        method: 'POST',
        path: '/api/v1/eSIM/cancel',
        handle: (request) => {
          if (!authorized(request)) return { status: 401, body: { error: 'Token has expired or is invalid' } };
          const iccid = readIccid(request);
          if (typeof iccid !== 'string') return iccid;
          const matchingId = (request.body as { matchingId?: unknown }).matchingId;
          if (typeof matchingId !== 'string' || matchingId.length === 0)
            return error(400, 'Missing parameter: matchingId');
          const esim = esims.get(iccid);
          if (esim === undefined) return error(400, `ICCID ${iccid} not found`);
          if (esim.state !== 'released') return error(400, `eSIM state is ${esim.state}, expected released`);
          if (esim.matchingId !== matchingId) return error(400, 'matchingId does not match the current order');
          esim.state = 'available';
          esim.matchingId = undefined;
          cancellations.push({ iccid, matchingId, at: Date.now() });
          return executed();
        },
      },
    ],
    { latencyMs: options.latencyMs, state: () => ({ esims: [...esims.values()], logins, cancellations }), reset },
  );

  return {
    server,
    esim: (iccid: string): MonogotoEsim | undefined => esims.get(iccid),
    esims: (): MonogotoEsim[] => [...esims.values()].map((esim) => ({ ...esim })),
    addEsim: (esim: MonogotoEsim): void => void esims.set(esim.iccid, { ...esim }),
    /** Every cancel Monogoto applied: the provider's effects, for exactly-once checks. */
    cancellations: (): Array<{ iccid: string; matchingId: string; at: number }> => [...cancellations],
    /** Every access token issued so far (tests scan logs for them). */
    issuedTokens: (): string[] => [...issued],
    /** Makes every issued token invalid, as an expiry would. */
    expireTokens: (): void => tokens.clear(),
    get logins(): number {
      return logins;
    },
    reset: () => {
      reset();
      server.calls.length = 0;
      server.clearFaults();
    },
  };
};

export type MonogotoSimulator = ReturnType<typeof createMonogotoSimulator>;
