/**
 * GET /v1/reports/refunds: the caller's eSIM Go refunds, predicted and confirmed (shared/history/refunds.ts), as JSON
 * pages or, with `Accept: text/csv`, as one CSV of the whole range.
 */
import { parseQuery, prefersCsv, readerHandler } from '../../shared/history/http.js';
import { CSV_CONTENT_TYPE } from '../../shared/history/csv.js';
import { refundCsv, refundPage } from '../../shared/history/refunds.js';
import { refundQuerySchema } from '../../shared/history/schemas.js';
import { callerIdentity } from '../../shared/http/request.js';
import { jsonResponse } from '../../shared/http/response.js';

export const handler = readerHandler(async (event) => {
  const query = parseQuery(event, refundQuerySchema);
  const caller = callerIdentity(event);
  // The answer depends on Accept: caches must keep the two forms apart.
  if (!prefersCsv(event)) return jsonResponse(200, await refundPage(caller, query), { vary: 'Accept' });
  return {
    statusCode: 200,
    headers: {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-type': CSV_CONTENT_TYPE,
      'content-disposition': 'attachment; filename="refunds.csv"',
      vary: 'Accept',
    },
    body: await refundCsv(caller, query),
  };
});
