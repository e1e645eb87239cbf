/**
 * The CDK app: `npm run synth` / `npx cdk deploy`. Works offline and without AWS credentials. Options come from CDK
 * context (`-c name=value` or cdk.json), checked here with one error that names every bad value.
 */
import { App } from 'aws-cdk-lib';
import { z } from 'zod';
import { describeFieldErrors, fieldErrorsFromIssues } from '../shared/errors.js';
import { routes } from '../shared/http/routes.js';
import { contracts } from '../shared/operations/contracts.js';
import { requiredSettings, variable } from '../shared/providers/provider.js';
import { providers } from '../shared/providers/registry.js';
import { baseUrlContextKey } from './constructs/operation-service.js';
import { GatewayStack, physicalName } from './stack.js';
import { timeBudgetProblem } from './time-budget.js';

const app = new App();
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(',')).map((item) => item.trim()).filter((item) => item !== ''),
  );
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);
const count = z.coerce.number().int().positive();

const providerNames = providers.map((provider) => provider.name) as [string, ...string[]];

const contextSchema = z.object({
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

const raw = Object.fromEntries(
  Object.keys(contextSchema.shape)
    .map((key) => [key, app.node.tryGetContext(key) as unknown])
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
const context = parsed.data;
const baseUrls = parsed.data as Record<string, unknown>;
const deployed = providers.filter((provider) => context.providers?.includes(provider.name) ?? true);
const names = new Set(deployed.map((provider) => provider.name));

const stage = context.stage ?? 'prod';

new GatewayStack(app, physicalName(stage)('SimCancelGateway'), {
  stage,
  // The routes that are not operations always; an operation only with its provider.
  routes: routes.filter((route) => route.operation === undefined || names.has(route.operation.provider)),
  providers: deployed,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  providerBaseUrls: Object.fromEntries(
    providers.map((provider) => [provider.name, baseUrls[baseUrlContextKey(provider)] as string | undefined]),
  ),
  upstreamTimeoutMs: context.upstreamTimeoutMs,
  idempotencyTtlSeconds: context.idempotencyTtlSeconds,
  operationsRetentionDays: context.operationsRetentionDays,
  alarmEmail: context.alarmEmail,
  allowedAccounts: context.allowedAccounts,
  allowedVpcEndpoints: context.allowedVpcEndpoints,
  enableWaf: context.enableWaf,
  reserveConcurrency: context.reserveConcurrency,
  sourceMaps: context.sourceMaps,
});
