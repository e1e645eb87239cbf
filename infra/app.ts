/**
 * The CDK app: `npm run synth` / `npx cdk deploy`. Works offline and without AWS credentials. Options come from CDK
 * context (`-c name=value` or cdk.json), checked by infra/context.ts.
 */
import { App } from 'aws-cdk-lib';
import { routes } from '../shared/http/routes.js';
import { providers } from '../shared/providers/registry.js';
import { baseUrlContextKey } from './constructs/operation-service.js';
import { readContext } from './context.js';
import { GatewayStack, physicalName } from './stack.js';

const app = new App();
const context = readContext((key) => app.node.tryGetContext(key) as unknown);
const baseUrls = context as Record<string, unknown>;
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
