/** The eSIM Go client of this process, built once from configuration and reused by warm invocations. */
import { ConfigurationError, config } from '../../config.js';
import { apiKeySchema, readSecretJson } from '../../secrets.js';
import { RateLimiter } from '../rate-limit.js';
import { EsimGoClient } from './client.js';

const esimGoApiKey = async (): Promise<string> => {
  const { ESIM_GO_SECRET_ARN, ESIM_GO_API_KEY } = config();
  if (ESIM_GO_SECRET_ARN !== undefined) return (await readSecretJson(ESIM_GO_SECRET_ARN, apiKeySchema, 'eSIM Go')).apiKey;
  if (ESIM_GO_API_KEY !== undefined) return ESIM_GO_API_KEY;
  throw new ConfigurationError('The eSIM Go API key is missing: set ESIM_GO_SECRET_ARN, or ESIM_GO_API_KEY');
};

let client: EsimGoClient | undefined;

export const esimGoClient = (): EsimGoClient =>
  (client ??= new EsimGoClient({
    baseUrl: config().ESIM_GO_BASE_URL,
    timeoutMs: config().UPSTREAM_TIMEOUT_MS,
    apiKey: esimGoApiKey,
    limiter: new RateLimiter(config().ESIM_GO_REQUESTS_PER_SECOND),
  }));

export { EsimGoClient } from './client.js';
