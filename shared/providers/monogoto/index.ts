/** The Monogoto client of this process, built once from configuration and reused by warm invocations. */
import { ConfigurationError, config } from '../../config.js';
import { readSecretJson, usernamePasswordSchema } from '../../secrets.js';
import { MonogotoClient, type MonogotoCredentials } from './client.js';

const monogotoCredentials = async (): Promise<MonogotoCredentials> => {
  const { MONOGOTO_SECRET_ARN, MONOGOTO_USERNAME, MONOGOTO_PASSWORD } = config();
  if (MONOGOTO_SECRET_ARN !== undefined) return readSecretJson(MONOGOTO_SECRET_ARN, usernamePasswordSchema, 'Monogoto');
  if (MONOGOTO_USERNAME !== undefined && MONOGOTO_PASSWORD !== undefined) return { username: MONOGOTO_USERNAME, password: MONOGOTO_PASSWORD };
  throw new ConfigurationError('Monogoto credentials are missing: set MONOGOTO_SECRET_ARN, or MONOGOTO_USERNAME and MONOGOTO_PASSWORD');
};

let client: MonogotoClient | undefined;

export const monogotoClient = async (): Promise<MonogotoClient> =>
  (client ??= new MonogotoClient({
    baseUrl: config().MONOGOTO_BASE_URL,
    timeoutMs: config().UPSTREAM_TIMEOUT_MS,
    credentials: monogotoCredentials,
  }));

export { MonogotoClient } from './client.js';
