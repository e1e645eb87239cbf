/**
 * The CDK context options (`-c name=value` or cdk.json) and their checks: one error that names every bad value, and
 * a refusal to deploy a provider without a setting it cannot run without. README.md and docs/deploy.md document
 * every key (test/unit/configuration-docs.test.ts).
 */
import { z } from 'zod';
import { describeFieldErrors, fieldErrorsFromIssues } from '../shared/errors.js';
import { contracts } from '../shared/operations/contracts.js';
import { requiredSettings, variable } from '../shared/providers/provider.js';
import { providers } from '../shared/providers/registry.js';
import { baseUrlContextKey } from './constructs/operation-service.js';
import { timeBudgetProblem } from './time-budget.js';

const list = z
  .union([z.array(z.string()), z.string()])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter((item) => item !== ''),
  );
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const count = z.coerce.number().int().positive();

const providerNames = providers.map((provider) => provider.name) as [string, ...string[]];

export const contextSchema = z.object({
  /** The stage: in every physical name (the stack's too), so stages coexist in one account. */
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be 1-20 characters of a-z, 0-9 and -, starting with a letter')
    .optional(),
  /** The providers to deploy (their operations, secrets, alarms); every registered one by default. */
  providers: list.pipe(z.array(z.enum(providerNames))).optional(),
  ...Object.fromEntries(providers.map((provider) => [baseUrlContextKey(provider), z.url().optional()])),
  upstreamTimeoutMs: count.optional(),
  idempotencyTtlSeconds: count.optional(),
  operationsRetentionDays: count.optional(),
  alarmEmail: z.email().optional(),
  allowedAccounts: list.pipe(z.array(z.string().regex(/^\d{12}$/, 'must be 12-digit account ids'))).optional(),
  allowedVpcEndpoints: list.pipe(z.array(z.string().regex(/^vpce-[0-9a-f]+$/, 'must be vpce-... ids'))).optional(),
  enableWaf: flag.optional(),
  reserveConcurrency: flag.optional(),
  sourceMaps: flag.optional(),
});

/** The app's context, checked; `tryGetContext` is the app's (a function, so tests need no App). */
export const readContext = (tryGetContext: (key: string) => unknown) => {
  const raw = Object.fromEntries(
    Object.keys(contextSchema.shape)
      .map((key) => [key, tryGetContext(key)])
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = contextSchema
    .superRefine((value, context) => {
      const problem = timeBudgetProblem(contracts, (value.upstreamTimeoutMs as number | undefined) ?? 8000);
      if (problem !== undefined) context.addIssue({ code: 'custom', path: ['upstreamTimeoutMs'], message: problem });
      // A provider deployed without a setting it cannot run without would fail every cold start: refuse it here.
      const selected = providers.filter(
        (provider) => (value.providers as string[] | undefined)?.includes(provider.name) ?? true,
      );
      for (const provider of selected) {
        for (const setting of requiredSettings(provider)) {
          const key = setting === variable(provider, 'BASE_URL') ? baseUrlContextKey(provider) : undefined;
          if (key !== undefined && (value as Record<string, unknown>)[key] !== undefined) continue;
          const others = selected.filter((other) => other !== provider).map((other) => other.name);
          context.addIssue({
            code: 'custom',
            path: [key ?? 'providers'],
            message:
              `${provider.label} cannot run without ${setting}` +
              (key === undefined ? ', which no context option sets' : `: deploy with -c ${key}=https://...`) +
              (others.length > 0 ? `, or leave ${provider.label} out with -c providers=${others.join(',')}` : ''),
          });
        }
      }
    })
    .safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `Invalid CDK context: ${describeFieldErrors(fieldErrorsFromIssues(parsed.error.issues, { root: 'context' }))}`,
    );
  }
  return parsed.data as z.infer<typeof contextSchema> & Record<string, unknown>;
};
