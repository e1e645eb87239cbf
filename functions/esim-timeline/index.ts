/**
 * GET /v1/esims/{iccid}/timeline: the caller's operations on one eSIM and their follow-ups, merged with eSIM Go's own
 * history of it when the eSIM is the caller's at eSIM Go (shared/history/timeline.ts).
 */
import { invalidRequest } from '../../shared/errors.js';
import { issuesOf, parseQuery, readerHandler } from '../../shared/history/http.js';
import { timelinePathSchema, timelineQuerySchema } from '../../shared/history/schemas.js';
import { esimTimeline } from '../../shared/history/timeline.js';
import { callerIdentity } from '../../shared/http/request.js';
import { jsonResponse } from '../../shared/http/response.js';

/** Left of the invocation for answering after eSIM Go's read gave up. */
const ANSWER_MARGIN_MS = 3000;

export const handler = readerHandler(async (event, context) => {
  const path = timelinePathSchema.safeParse({ iccid: event.pathParameters?.iccid ?? '' });
  // One 400 naming the ICCID and any query parameter (the route takes none) together.
  parseQuery(event, timelineQuerySchema, issuesOf(path));
  if (!path.success) throw invalidRequest(issuesOf(path));
  const budget = Math.max(context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS, 1000);
  return jsonResponse(
    200,
    await esimTimeline(callerIdentity(event), path.data.iccid, { signal: AbortSignal.timeout(budget) }),
  );
});
