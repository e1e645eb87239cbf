/** The eSIM Go client of this process, built once from configuration and reused by warm invocations. */
import { config } from '../../config.js';
import { readApiKey } from '../../secrets.js';
import { RateLimiter } from '../rate-limit.js';
import { EsimGoClient } from './client.js';

const esimGoApiKey = async (): Promise<string> => readApiKey('eSIM Go', config().ESIM_GO_SECRET_ARN, config().ESIM_GO_API_KEY, ['ESIM_GO_SECRET_ARN', 'ESIM_GO_API_KEY']);

let client: EsimGoClient | undefined;

export const esimGoClient = (): EsimGoClient =>
  (client ??= new EsimGoClient({
    baseUrl: config().ESIM_GO_BASE_URL,
    timeoutMs: config().UPSTREAM_TIMEOUT_MS,
    apiKey: esimGoApiKey,
    limiter: new RateLimiter(config().ESIM_GO_REQUESTS_PER_SECOND),
  }));

export { EsimGoClient } from './client.js';
