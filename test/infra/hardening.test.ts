/** The production stack: access, validation, throttling, observability, alarms, hardening, and cdk-nag. */
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { GatewayStack, type GatewayStackProps, containerShare } from '../../infra/stack.js';
import { contracts } from '../../shared/operations/contracts.js';
import type { AnyProvider } from '../../shared/providers/provider.js';
import { providers } from '../../shared/providers/registry.js';
import { batchRoutes, routes } from '../../shared/http/routes.js';
import { contracts as operations } from '../../shared/operations/contracts.js';

const synth = (props: Partial<GatewayStackProps> = {}, nag = false) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new GatewayStack(app, 'Test', { routes, ...props });
  return { app, template: Template.fromStack(stack) };
};

const { template } = synth({ alarmEmail: 'ops@example.com' });
const resources = (type: string) => Object.values(template.findResources(type));

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['the default stack', {}],
    [
      'the stack with WAF, a resource policy and alarm email',
      {
        enableWaf: true,
        allowedAccounts: ['111111111111'],
        allowedVpcEndpoints: ['vpce-0abc'],
        alarmEmail: 'ops@example.com',
      },
    ],
  ])('passes with every finding acknowledged for a reason: %s', (_label, props) => {
    const { app } = synth(props, true);
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledges wildcard resources only for X-Ray actions', () => {
    const wildcards = resources('AWS::IAM::Policy').flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>).filter(
        (statement) => statement.Resource === '*',
      ),
    );
    expect(wildcards.length).toBeGreaterThan(0);
    for (const statement of wildcards) for (const action of [statement.Action].flat()) expect(action).toMatch(/^xray:/);
  });
});

describe('access', () => {
  it('validates the parameters the operation schemas require, and has no body model (the function names the field)', () => {
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
      ValidateRequestBody: true,
    });
    template.resourceCountIs('AWS::ApiGateway::Model', 0);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      OperationName: 'revoke-bundle',
      RequestValidatorId: Match.anyValue(),
      RequestParameters: Match.objectLike({
        'method.request.path.iccid': true,
        'method.request.path.name': true,
        'method.request.querystring.refundToBalance': false,
      }),
    });
  });

  it('throttles the stage and every method, logs access as JSON and errors', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId"'),
      }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
          LoggingLevel: 'ERROR',
        }),
        Match.objectLike({
          HttpMethod: 'DELETE',
          ResourcePath: '/~1v1~1esim-go~1esims~1{iccid}~1bundles~1{name}',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
        }),
      ]),
    });
    const settings = resources('AWS::ApiGateway::Stage')[0]?.Properties.MethodSettings as Array<{
      HttpMethod: string;
      ResourcePath: string;
    }>;
    expect(new Set(settings.map((setting) => `${setting.HttpMethod} ${setting.ResourcePath}`)).size).toBe(
      settings.length,
    );
    expect(settings).toHaveLength(routes.length + 1);
  });

  it('answers API Gateway errors as problem+json', () => {
    for (const type of [
      'BAD_REQUEST_BODY',
      'MISSING_AUTHENTICATION_TOKEN',
      'ACCESS_DENIED',
      'THROTTLED',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: { 'gatewayresponse.header.Content-Type': "'application/problem+json'" },
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp('"type":"https://sim-cancel-gateway.dev/problems/'),
        },
      });
    }
  });

  it("renders every gateway response as valid JSON whatever API Gateway says, and keeps the defaults' own status", () => {
    // An independent rendering, as API Gateway substitutes (plain text, no escaping): messageString arrives quoted and
    // escaped, message and validationErrorString arrive raw.
    const said = 'Invalid request body: "matchingId" must be a string \\ [object has missing required properties]';
    const render = (body: string) =>
      body
        .replaceAll('$context.error.messageString', JSON.stringify(said))
        .replaceAll('$context.error.validationErrorString', said)
        .replaceAll('$context.error.message', said);
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'));
    expect(responses.length).toBeGreaterThanOrEqual(11);
    for (const response of responses) {
      const rendered = render(response.Properties.ResponseTemplates['application/json'] as string);
      const problem = JSON.parse(rendered) as { type: string; status?: number; detail: string };
      expect(problem.type).toMatch(/^https:\/\/sim-cancel-gateway\.dev\/problems\//);
      if (['DEFAULT_4XX', 'DEFAULT_5XX'].includes(response.Properties.ResponseType as string)) {
        expect(response.Properties.StatusCode).toBeUndefined();
        expect(problem.status).toBeUndefined();
      } else {
        expect(problem.status).toBe(Number(response.Properties.StatusCode));
      }
    }
  });

  it('restricts callers to listed accounts and VPC endpoints when asked', () => {
    const restricted = synth({ allowedAccounts: ['111111111111'], allowedVpcEndpoints: ['vpce-0abc'] }).template;
    restricted.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 'execute-api:Invoke', Principal: { AWS: Match.anyValue() } }),
          Match.objectLike({ Effect: 'Deny', Condition: { StringNotEquals: { 'aws:SourceVpce': ['vpce-0abc'] } } }),
        ]),
      },
    });
    expect(resources('AWS::ApiGateway::RestApi')[0]?.Properties.Policy).toBeUndefined();
  });

  it('attaches a WAF web ACL with a 16 KiB body limit only when enabled, batches (up to 10,000 items) excepted', () => {
    const withWaf = synth({ enableWaf: true }).template;
    withWaf.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    const createBatch = batchRoutes.find((route) => route.name === 'create-batch');
    expect(createBatch?.path).toBe('/v1/batches');
    withWaf.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'common',
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            }),
          },
        }),
        Match.objectLike({
          Name: 'body-size',
          Statement: {
            AndStatement: {
              Statements: [
                { SizeConstraintStatement: Match.objectLike({ Size: 16384, ComparisonOperator: 'GT' }) },
                {
                  NotStatement: {
                    Statement: {
                      ByteMatchStatement: Match.objectLike({
                        PositionalConstraint: 'ENDS_WITH',
                        SearchString: createBatch?.path,
                      }),
                    },
                  },
                },
              ],
            },
          },
        }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('gives the batch starters (create, confirm) 1024 MB for the CPU of 10,000 items, every other function 512', () => {
    for (const route of routes) {
      const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (candidate) => candidate.Properties.Description === route.summary,
      );
      expect(fn?.Properties.MemorySize, route.name).toBe(
        ['create-batch', 'confirm-batch'].includes(route.name) ? 1024 : 512,
      );
    }
  });
});

describe('hardening', () => {
  it("reserves concurrency per provider and counts eSIM Go's 10 requests/second for the whole fleet", () => {
    for (const contract of contracts) {
      const provider = providers.find((candidate) => candidate.name === contract.provider) as AnyProvider;
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: contract.summary,
        ReservedConcurrentExecutions: containerShare(provider, contract, routes),
      });
    }
    // Every function of a provider shares its limits: their reserved concurrency adds up to the provider's containers.
    for (const provider of providers) {
      const shares = contracts
        .filter((contract) => contract.provider === provider.name)
        .map((contract) => containerShare(provider, contract, routes));
      expect(shares.reduce((sum, share) => sum + share, 0)).toBeLessThanOrEqual(provider.limits.containers);
    }
    // The whole limit, counted for the fleet in DynamoDB, on every function that calls eSIM Go (operations and readers).
    const esimGo = providers.find((provider) => provider.name === 'esim-go') as AnyProvider;
    expect(esimGo.limits.requestsPerSecond).toBe(10);
    const callers = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) => fn.Properties.Environment?.Variables?.ESIM_GO_SECRET_ARN !== undefined,
    );
    expect(callers.length).toBeGreaterThanOrEqual(3);
    for (const fn of callers)
      expect(fn.Properties.Environment.Variables).toMatchObject({
        ESIM_GO_REQUESTS_PER_SECOND: '10',
        RATE_LIMIT_SCOPE: 'fleet',
      });
    expect(
      synth({ reserveConcurrency: false }).template.findResources('AWS::Lambda::Function', {
        Properties: { ReservedConcurrentExecutions: Match.anyValue() },
      }),
    ).toEqual({});
  });

  it('encrypts every table, queue and the alarm topic', () => {
    for (const table of resources('AWS::DynamoDB::Table'))
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    for (const queue of resources('AWS::SQS::Queue')) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('lets CloudWatch publish alarms to the encrypted topic: a key of our own whose policy allows it, and every alarm acts on the topic', () => {
    const topics = Object.entries(template.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(1);
    const [topicId, topic] = topics[0] as [string, { Properties: { KmsMasterKeyId: unknown } }];
    const keyRef = topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] };
    // Not an alias of the AWS-managed key (alias/aws/sns), whose policy no one can change.
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).not.toContain('alias/aws/sns');
    const keyId = keyRef['Fn::GetAtt']?.[0] as string;
    const key = template.findResources('AWS::KMS::Key')[keyId] as {
      Properties: { KeyPolicy: { Statement: Array<{ Principal?: { Service?: string }; Action: string | string[] }> } };
    };
    expect(key).toBeDefined();
    const forCloudWatch = key.Properties.KeyPolicy.Statement.filter(
      (statement) => statement.Principal?.Service === 'cloudwatch.amazonaws.com',
    );
    const actions = forCloudWatch.flatMap((statement) =>
      Array.isArray(statement.Action) ? statement.Action : [statement.Action],
    );
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('keeps secrets out of environment variables and outputs', () => {
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/PASSWORD|API_KEY"/);
    for (const output of Object.values(template.toJSON().Outputs as Record<string, { Value: unknown }>))
      expect(JSON.stringify(output.Value)).not.toMatch(/SecretString/);
  });
});

describe('alarms and dashboard', () => {
  it('alarms on API 5xx rate, function errors and throttles, unknown outcomes, provider failure rate, DLQ depth and DynamoDB throttling, to one topic', () => {
    const alarms = resources('AWS::CloudWatch::Alarm');
    const described = alarms.map((alarm) => String(alarm.Properties.AlarmDescription));
    expect(described.some((text) => /API requests answered 5xx/.test(text))).toBe(true);
    for (const definition of operations) {
      for (const pattern of [
        'the function failed',
        'throttled invocations',
        'unknown outcome',
        'calls failed or ended unknown',
        'dead-letter queue',
      ]) {
        expect(
          described.some((text) => text.startsWith(definition.name) || text.includes(definition.name)) &&
            described.some((text) => text.includes(definition.name) && text.includes(pattern)),
          `${definition.name}: ${pattern}`,
        ).toBe(true);
      }
    }
    expect(described.filter((text) => /DynamoDB throttled/.test(text))).toHaveLength(2);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('has a dashboard with one row per provider', () => {
    const body = JSON.stringify(resources('AWS::CloudWatch::Dashboard')[0]?.Properties.DashboardBody);
    for (const provider of ['monogoto', 'esim-go', 'stn']) expect(body).toContain(`## ${provider}`);
  });
});
