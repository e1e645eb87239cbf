/**
 * What the history routes' handlers share: the query string parsed by a strict schema (unknown and repeated
 * parameters refused, each bad one named), content negotiation between JSON and CSV, and the one Lambda wrapper.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from '../zod.js';
import { type FieldError, fieldErrorsFromIssues, invalidRequest } from '../errors.js';
import { logProblem } from '../http/http-answer.js';
import { countAnswer, problemResponse } from '../http/response.js';
import { withObservability } from '../lambda.js';
import { logger } from '../observability.js';

/** The query string through `schema`: a 400 naming every unknown, repeated or invalid parameter. */
export const parseQuery = <Schema extends z.ZodType>(
  event: APIGatewayProxyEvent,
  schema: Schema,
  extra: FieldError[] = [],
): z.infer<Schema> => {
  const errors: FieldError[] = [...extra];
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {}))
    if (values !== undefined && values.length > 1) errors.push({ path: name, message: 'is given more than once' });
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
    if (value !== undefined) query[name] = value;
  const parsed = schema.safeParse(query);
  if (!parsed.success)
    errors.push(...fieldErrorsFromIssues(parsed.error.issues, { root: 'query', unknownFields: 'each' }));
  if (errors.length > 0) throw invalidRequest(errors);
  return parsed.data as z.infer<Schema>;
};

/** Field errors of a zod parse of one part of the request (a path parameter), or none. */
export const issuesOf = (result: {
  success: boolean;
  error?: { issues: readonly z.core.$ZodIssue[] };
}): FieldError[] =>
  result.success ? [] : fieldErrorsFromIssues(result.error?.issues ?? [], { root: 'path', unknownFields: 'each' });

/**
 * Whether the client asked for CSV (`Accept: text/csv`): CSV when `text/csv` is acceptable and ranked at least as high
 * as JSON. Anything else, no Accept header included, is JSON.
 */
export const prefersCsv = (event: APIGatewayProxyEvent): boolean => {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'accept')?.[1];
  if (header === undefined) return false;
  let csv = 0;
  let json = 0;
  for (const range of header.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = Number(/^q=([0-9.]+)$/.exec(parameters.find((parameter) => parameter.startsWith('q=')) ?? '')?.[1] ?? 1);
    const weight = Number.isFinite(q) ? q : 0;
    if (type === 'text/csv') csv = Math.max(csv, weight);
    if (type === 'application/json' || type === 'application/*' || type === '*/*') json = Math.max(json, weight);
  }
  return csv > 0 && csv >= json;
};

/** A history route's Lambda handler: problems as problem+json, the answer counted by status class. */
export const readerHandler = (
  answer: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
) =>
  withObservability(async (event: APIGatewayProxyEvent, context: Context) => {
    logger.setCorrelationId(event.requestContext?.requestId);
    try {
      return countAnswer(await answer(event, context));
    } catch (error) {
      return countAnswer(problemResponse(logProblem(error)));
    }
  });
