/**
 * Sends one HTTP request to the API: unsigned to the local runner (`npm start`), signed with SigV4 for execute-api
 * to anything else, with credentials from the standard AWS chain.
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface ApiRequest {
  method: 'GET' | 'POST';
  /** Under the base URL, e.g. `/v1/batches`; the base URL may carry a stage path such as `/v1`. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

export type Send = (request: ApiRequest, signal: AbortSignal) => Promise<Response>;

/** The local runner binds 127.0.0.1; only these names mean "unsigned". */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export const isLocal = (url: URL): boolean => LOCAL_HOSTS.has(url.hostname);

/** fetch's way of saying the network failed: a TypeError with the system error as its cause (a bug has none). */
export const isNetworkError = (error: unknown): error is TypeError & { cause: { code?: string; message?: string } } =>
  error instanceof TypeError && typeof error.cause === 'object' && error.cause !== null;

/** An explicit --region, else the one in an execute-api host name, else the environment (as scripts/smoke.ts). */
export const signingRegion = (url: URL, region: string | undefined): string =>
  region ??
  /execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1] ??
  process.env.AWS_REGION ??
  process.env.AWS_DEFAULT_REGION ??
  'us-east-1';

type Sign = (
  method: string,
  url: URL,
  headers: Record<string, string>,
  body?: string,
) => Promise<Record<string, string>>;

/**
 * The signer of scripts/smoke.ts, loaded only when needed: smoke.ts also loads every operation contract, which the
 * local, unsigned case has no use for.
 */
const createSigner = (region: string): Sign => {
  let credentials: AwsCredentialIdentityProvider | undefined;
  return async (method, url, headers, body) => {
    const [{ signRequest }, { defaultProvider }] = await Promise.all([
      import('../scripts/smoke.js'),
      import('@aws-sdk/credential-provider-node'),
    ]);
    // One provider for the whole run: it caches the credentials (and refreshes those that expire).
    credentials ??= defaultProvider();
    try {
      return await signRequest({ method, url, headers, body }, { region, credentials });
    } catch (error) {
      // The chain's own message names no host and no remedy.
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(
        `no AWS credentials to sign for ${url.host} with (${why}); set AWS_PROFILE or AWS_ACCESS_KEY_ID and ` +
          'AWS_SECRET_ACCESS_KEY, or run aws sso login',
        { cause: error },
      );
    }
  };
};

export const createSend = (baseUrl: URL, region: string | undefined): Send => {
  // Query and fragment of --url are no part of the base.
  const base = `${baseUrl.origin}${baseUrl.pathname.replace(/\/+$/, '')}`;
  const sign = isLocal(baseUrl) ? undefined : createSigner(signingRegion(baseUrl, region));
  return async (request, signal) => {
    const url = new URL(`${base}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const headers = request.headers ?? {};
    const sent = sign === undefined ? headers : await sign(request.method, url, headers, request.body);
    return fetch(url, { method: request.method, headers: sent, body: request.body, signal });
  };
};
