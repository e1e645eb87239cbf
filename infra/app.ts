/** The CDK app: `npm run synth` / `npx cdk deploy`. Works offline and without AWS credentials. */
import { App } from 'aws-cdk-lib';
import { routes } from '../shared/http/routes.js';
import { operations } from '../shared/operations/index.js';
import { GatewayStack, baseUrlContextKey } from './stack.js';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

new GatewayStack(app, 'SimCancelGateway', {
  routes,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  providerBaseUrls: Object.fromEntries(
    [...new Set(operations.map((definition) => definition.provider))].map((provider) => [provider, context(baseUrlContextKey(provider))]),
  ),
});
