/**
 * eSIM Go v2.4 wire shapes, written from the official OpenAPI file (test/fixtures/esim-go-v2.4.openapi.yaml):
 * `eSIMDetailsResponse`, `BundlesList`, `AssignmentResponse`, `ESIMHistory`, `StatusMessage`, `Message`.
 * test/unit/esim-go-spec.test.ts checks every field name and type here against that file, so they cannot drift.
 * Every field is optional, as in the spec; the operation decides what it cannot do without.
 */
import * as z from '../../zod.js';

export const assignmentSchema = z.looseObject({
  id: z.string().optional(),
  callTypeGroup: z.string().optional(),
  initialQuantity: z.number().int().optional(),
  remainingQuantity: z.number().int().optional(),
  assignmentDateTime: z.string().optional(),
  assignmentReference: z.string().optional(),
  bundleState: z.string().optional(),
  unlimited: z.boolean().optional(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

export const bundlesListSchema = z.looseObject({
  bundles: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        description: z.string().optional(),
        assignments: z.array(assignmentSchema).optional(),
      }),
    )
    .optional(),
});
export type BundlesList = z.infer<typeof bundlesListSchema>;

export const assignmentResponseSchema = z.looseObject({ assignments: z.array(assignmentSchema).optional() });

export const esimDetailsSchema = z.looseObject({
  iccid: z.string().optional(),
  pin: z.string().optional(),
  puk: z.string().optional(),
  matchingId: z.string().optional(),
  smdpAddress: z.string().optional(),
  profileStatus: z.string().optional(),
  firstInstalledDateTime: z.number().int().optional(),
  customerRef: z.string().optional(),
});
export type EsimDetails = z.infer<typeof esimDetailsSchema>;

export const statusMessageSchema = z.looseObject({ status: z.string().optional() });
export const messageSchema = z.looseObject({ message: z.string().optional() });

/** The schemas above by the spec's component names, for the drift test. */
/** One entry of `GET /esims/{iccid}/history` (`ESIMHistory`): an action's name, its bundle and when. No assignment id. */
export const esimHistorySchema = z.looseObject({
  name: z.string().optional(),
  bundleName: z.string().optional(),
  date: z.string().optional(),
});
export type EsimHistoryEntry = z.infer<typeof esimHistorySchema>;
/** The spec types the answer as one ESIMHistory object, its example as an array of them: both are read. */
export const esimHistoryAnswerSchema = z.union([z.array(esimHistorySchema), esimHistorySchema]);

export const SPEC_COMPONENTS = {
  ESIMHistory: esimHistorySchema,
  eSIMDetailsResponse: esimDetailsSchema,
  BundlesList: bundlesListSchema,
  AssignmentResponse: assignmentResponseSchema,
  Assignment: assignmentSchema,
  StatusMessage: statusMessageSchema,
  Message: messageSchema,
} as const;

export const esimGoErrorMessage = (body: unknown): string => {
  const parsed = messageSchema.safeParse(body);
  if (parsed.success && parsed.data.message !== undefined) return parsed.data.message;
  return typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : 'no error message';
};
