/**
 * sTN Partner API wire shapes (developer.stn.nl; docs/providers.md §3). sTN publishes no machine-readable spec,
 * so these follow the documented examples, tolerating the documented inconsistencies: `providerEnvrionment`
 * (sic, in the cancel example) next to `providerEnvironment`, and status values beyond the listed four (`INIT`).
 */
import * as z from '../../zod.js';

export const activationSchema = z.looseObject({
  id: z.string(),
  createdAt: z.string().optional(),
  modifiedAt: z.string().optional(),
  status: z.string(),
  activationType: z.string().optional(),
  providerEnvironment: z.string().optional(),
  providerEnvrionment: z.string().optional(),
  referenceNumber: z.string().optional(),
  providerOrderNumber: z.string().optional(),
  subscriptionId: z.string().optional(),
  phoneNumber: z.string().optional(),
  activatedDate: z.string().optional(),
  info: z.looseObject({}).optional(),
});
export type Activation = z.infer<typeof activationSchema>;

/** ServiceStack AutoQuery envelope. */
export const queryActivationSchema = z.looseObject({
  offset: z.number().int().optional(),
  total: z.number().int().optional(),
  results: z.array(activationSchema),
});

/** ServiceStack error body. */
export const responseStatusSchema = z.looseObject({
  responseStatus: z.looseObject({
    errorCode: z.string().optional(),
    message: z.string().optional(),
    errors: z
      .array(
        z.looseObject({
          errorCode: z.string().optional(),
          fieldName: z.string().optional(),
          message: z.string().optional(),
        }),
      )
      .optional(),
  }),
});

/** Statuses in which sTN still accepts a cancel (assumption: the docs say only "an ongoing activation request"). */
export const PENDING_STATUSES: ReadonlySet<string> = new Set(['INIT', 'BUSY']);

/** The one spelling the gateway passes on. */
export const providerEnvironment = (activation: Activation): string | undefined =>
  activation.providerEnvironment ?? activation.providerEnvrionment;

export const stnErrorMessage = (body: unknown): string => {
  const parsed = responseStatusSchema.safeParse(body);
  if (!parsed.success) return typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : 'no error message';
  const { errorCode, message, errors } = parsed.data.responseStatus;
  const fields = (errors ?? []).map((error) => `${error.fieldName ?? '?'}: ${error.message ?? error.errorCode ?? ''}`);
  return [errorCode, message, ...fields].filter((part) => part !== undefined && part !== '').join(' - ');
};
