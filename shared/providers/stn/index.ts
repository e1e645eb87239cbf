/** The sTN client of this process, built once from configuration and reused by warm invocations. */
import { ConfigurationError, config } from '../../config.js';
import { apiKeySchema, readSecretJson } from '../../secrets.js';
import { StnClient } from './client.js';

const stnApiKey = async (): Promise<string> => {
  const { STN_SECRET_ARN, STN_API_KEY } = config();
  if (STN_SECRET_ARN !== undefined) return (await readSecretJson(STN_SECRET_ARN, apiKeySchema, 'sTN')).apiKey;
  if (STN_API_KEY !== undefined) return STN_API_KEY;
  throw new ConfigurationError('The sTN API key is missing: set STN_SECRET_ARN, or STN_API_KEY');
};

let client: StnClient | undefined;

export const stnClient = (): StnClient => {
  const baseUrl = config().STN_BASE_URL;
  if (baseUrl === undefined) throw new ConfigurationError('STN_BASE_URL is not set: sTN gives each partner its base URL');
  return (client ??= new StnClient({ baseUrl, timeoutMs: config().UPSTREAM_TIMEOUT_MS, apiKey: stnApiKey }));
};

export { StnClient } from './client.js';
