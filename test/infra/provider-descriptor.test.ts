/**
 * Adding a provider is adding its descriptor: a test-only fourth one appears in the synthesized template (its secret
 * and output), in the local runner's banner (its sandbox and records) and in the configuration schema, with no other
 * edit anywhere.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { expect, it } from 'vitest';
import { bannerLines } from '../../infra/local/banner.js';
import { startSandboxes } from '../../infra/local/sandboxes.js';
import { GatewayStack } from '../../infra/stack.js';
import { configurationSchema, readConfiguration } from '../../shared/configuration.js';
import { routes } from '../../shared/http/routes.js';
import { contracts } from '../../shared/operations/contracts.js';
import { SimulatorServer } from '../../sandbox/server.js';
import { defineProvider } from '../../shared/providers/provider.js';
import { providers } from '../../shared/providers/registry.js';
import * as z from '../../shared/zod.js';

const acme = defineProvider({
  name: 'acme-mobile',
  label: 'Acme Mobile',
  envPrefix: 'ACME_MOBILE',
  settings: {
    BASE_URL: z.url().default('https://api.acme.example'),
    SECRET_ARN: z.string().optional(),
    API_KEY: z.string().optional(),
  },
  secret: {
    schema: z.object({ apiKey: z.string().min(1) }),
    template: {},
    generatedKey: 'apiKey',
    fromSettings: () => undefined,
    plainSettings: ['API_KEY'],
  },
  limits: { containers: 3, queueConcurrency: 2, recordsPerBatch: 1 },
  clientMarker: 'acme-mobile-client',
  createClient: async () => ({}),
  sandbox: async () => ({
    startSandbox: async () => ({
      simulator: {},
      server: new SimulatorServer('acme-mobile', []),
      settings: { BASE_URL: 'http://127.0.0.1:9', API_KEY: 'acme-sandbox-key' },
      stop: async () => {},
      banner: () => ['Acme Mobile sandbox lines:', '  line 7'],
    }),
  }),
});
const four = [...providers, acme];

it('appears in the synthesized template: its credentials secret and its output', () => {
  const template = Template.fromStack(
    new GatewayStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Four', { routes, providers: four }),
  );
  template.resourceCountIs('AWS::SecretsManager::Secret', four.length);
  template.hasResourceProperties('AWS::SecretsManager::Secret', {
    Description: Match.stringLikeRegexp('^Acme Mobile API credentials'),
    GenerateSecretString: Match.objectLike({ GenerateStringKey: 'apiKey' }),
  });
  template.hasOutput('AcmeMobileSecretArn', {});
});

it("appears in the runner's banner: where it runs and its sandbox's lines", async () => {
  const env: NodeJS.ProcessEnv = {};
  const sandboxes = await startSandboxes(env, [acme]);
  expect(env).toMatchObject({ ACME_MOBILE_BASE_URL: 'http://127.0.0.1:9', ACME_MOBILE_API_KEY: 'acme-sandbox-key' });
  const lines = bannerLines({
    gatewayUrl: 'http://127.0.0.1:3000',
    dynamo: 'embedded',
    providers: four,
    sandboxes,
    contracts,
    env,
  });
  expect(lines).toContain('  Acme Mobile    built-in sandbox at http://127.0.0.1:9 (ACME_MOBILE_BASE_URL is not set)');
  expect(lines).toContain('Acme Mobile sandbox lines:');
});

it('appears in the configuration schema with its defaults', () => {
  const shape = configurationSchema(four).shape;
  expect(Object.keys(shape)).toEqual(
    expect.arrayContaining(['ACME_MOBILE_BASE_URL', 'ACME_MOBILE_SECRET_ARN', 'ACME_MOBILE_API_KEY']),
  );
  expect(readConfiguration({ STN_BASE_URL: 'https://partner.example' }, four)).toMatchObject({
    ACME_MOBILE_BASE_URL: 'https://api.acme.example',
  });
  expect(() =>
    readConfiguration({ STN_BASE_URL: 'https://partner.example', ACME_MOBILE_BASE_URL: 'not a url' }, four),
  ).toThrow(/ACME_MOBILE_BASE_URL/);
});
