/**
 * Monogoto's wire shapes, from its published "Filtered eSIM API" fragment (test/fixtures/monogoto-esim-cancel.openapi.json)
 * and its developer portal's authentication guide. A test checks these against the fragment.
 */
import * as z from '../../zod.js';

export const cancelRequestSchema = z.object({ iccid: z.string(), matchingId: z.string() });
export type MonogotoCancelRequest = z.infer<typeof cancelRequestSchema>;

/** `{"data":{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}}` */
export const executionResponseSchema = z.object({
  data: z.object({
    header: z.object({ functionExecutionStatus: z.object({ status: z.string() }) }),
  }),
});

/** Error body of the /api/v1/eSIM endpoints. */
export const esimErrorSchema = z.object({ error: z.string() });
/** Error body of the /v1 portal API (auth endpoints). */
export const portalErrorSchema = z.object({
  status_code: z.number(),
  message: z.string(),
  request_id: z.string().optional(),
});

export const tokenResponseSchema = z.object({
  token_type: z.string(),
  access_token: z.string().min(1),
  refresh_token: z.string().optional(),
});

/** ES2+ statuses that mean the function ran (SGP.22 FunctionExecutionStatus). */
export const EXECUTED_STATUSES = new Set(['Executed-Success', 'Executed-WithWarning']);

/** The human message of any Monogoto error body, whichever of its two shapes it has. */
export const monogotoErrorMessage = (body: unknown): string => {
  const esim = esimErrorSchema.safeParse(body);
  if (esim.success) return esim.data.error;
  const portal = portalErrorSchema.safeParse(body);
  if (portal.success) return portal.data.message;
  return typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : 'no error message';
};
