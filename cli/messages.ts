/** What the user reads when something went wrong: the API's own words where it gave any, else what failed. */
import { UnexpectedAnswer } from './api.js';
import { ApiError, describeApiError } from './problem.js';
import { isLocal, isNetworkError } from './transport.js';

export const describeError = (error: unknown, url: URL): string[] => {
  if (error instanceof ApiError) return describeApiError(error);
  if (error instanceof UnexpectedAnswer) return [`error: ${error.message}`];
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return [`error: ${url.origin} did not answer in time`];
  if (isNetworkError(error)) {
    const lines = [`error: cannot reach ${url.origin} (${error.cause.code ?? error.cause.message ?? error.message})`];
    if (isLocal(url)) lines.push('  is the local API running? Start it with npm start, or pass --url');
    return lines;
  }
  return [`error: ${error instanceof Error ? error.message : String(error)}`];
};
