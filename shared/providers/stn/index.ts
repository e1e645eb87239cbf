/** The sTN client of this process, built once from configuration and reused by warm invocations. */
import { ConfigurationError, config } from '../../config.js';
import { readApiKey } from '../../secrets.js';
import { StnClient } from './client.js';

const stnApiKey = async (): Promise<string> => readApiKey('sTN', config().STN_SECRET_ARN, config().STN_API_KEY, ['STN_SECRET_ARN', 'STN_API_KEY']);

let client: StnClient | undefined;

export const stnClient = (): StnClient => {
  const baseUrl = config().STN_BASE_URL;
  if (baseUrl === undefined) throw new ConfigurationError('STN_BASE_URL is not set: sTN gives each partner its base URL');
  return (client ??= new StnClient({ baseUrl, timeoutMs: config().UPSTREAM_TIMEOUT_MS, apiKey: stnApiKey }));
};

export { StnClient } from './client.js';
