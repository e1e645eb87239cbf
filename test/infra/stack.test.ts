/** CDK assertions on the synthesized template (bundling skipped: these tests are about resources, not code). */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayStack } from '../../infra/stack.js';
import { routes } from '../../shared/http/routes.js';
import { contracts as operations } from '../../shared/operations/contracts.js';

let template: Template;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  template = Template.fromStack(new GatewayStack(app, 'Test', { routes }));
});

describe('GatewayStack', () => {
  it('has one API method per route, each with IAM authorization', () => {
    const methods = template.findResources('AWS::ApiGateway::Method');
    const routed = Object.values(methods).filter((method) => method.Properties.HttpMethod !== 'OPTIONS');
    expect(routed).toHaveLength(routes.length);
    for (const method of routed) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('routes every operation definition to its own function', () => {
    for (const definition of operations) {
      const leaf = definition.route.path.split('/').at(-1);
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: leaf });
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: definition.route.method,
        OperationName: definition.name,
        AuthorizationType: 'AWS_IAM',
      });
    }
    template.resourceCountIs('AWS::Lambda::Function', routes.length);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      OperationName: 'get-operation',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('keeps the audit trail in its own table with TTL on `expiresAt`, PITR and encryption', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'operationId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('gives every operation a queue with a DLQ after 5 receives and a visibility timeout of at least 6x the function timeout', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue')).filter(
      (queue) => queue.Properties.RedrivePolicy !== undefined,
    );
    // Two per operation (its queue and its events queue), sharing the operation's one DLQ.
    expect(queues).toHaveLength(2 * operations.length);
    const deadLetterTargets = queues.map((queue) => JSON.stringify(queue.Properties.RedrivePolicy.deadLetterTargetArn));
    expect(new Set(deadLetterTargets).size).toBe(operations.length);
    for (const target of new Set(deadLetterTargets))
      expect(deadLetterTargets.filter((other) => other === target)).toHaveLength(2);
    const timeout = Math.max(
      ...Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => fn.Properties.Timeout as number),
    );
    for (const queue of queues) {
      expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
  });

  it('consumes each queue with partial batch responses, a maximum concurrency per provider and no record waiting for another', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2 * operations.length);
    const functions = template.findResources('AWS::Lambda::Function');
    for (const mapping of mappings) {
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
      // A batch holds no more records than the function runs at once: each has a whole execution's time budget.
      const fn = functions[mapping.Properties.FunctionName.Ref as string];
      expect(String(mapping.Properties.BatchSize)).toBe(fn?.Properties.Environment.Variables.BATCH_CONCURRENCY);
    }
    // Both mappings of a function together stay under its reserved concurrency: queues leave room for HTTP callers.
    for (const [logicalId, fn] of Object.entries(functions).filter(
      ([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined,
    )) {
      const own = mappings.filter((mapping) => mapping.Properties.FunctionName.Ref === logicalId);
      expect(own).toHaveLength(2);
      const queueContainers = own.reduce(
        (sum, mapping) => sum + (mapping.Properties.ScalingConfig.MaximumConcurrency as number),
        0,
      );
      expect(queueContainers).toBeLessThan(fn.Properties.ReservedConcurrentExecutions as number);
    }
  });

  it("targets each rule at an events queue that only the rule can send to, consumed by the operation's function", () => {
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const rules = Object.entries(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(operations.length);
    for (const [ruleId, rule] of rules) {
      const targets = rule.Properties.Targets as Array<{ Arn: { 'Fn::GetAtt': [string, string] } }>;
      expect(targets).toHaveLength(1);
      const queueId = targets[0]?.Arn['Fn::GetAtt'][0] as string;
      expect(template.toJSON().Resources[queueId].Type).toBe('AWS::SQS::Queue');
      const ruleArn = { 'Fn::GetAtt': [ruleId, 'Arn'] };
      const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };

      const policy = queuePolicies.find(
        (candidate) => JSON.stringify(candidate.Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
      );
      const statements = policy?.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
      // Every sender but this rule is denied sqs:SendMessage (ArnNotEquals also denies requests without aws:SourceArn)...
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:SendMessage',
          Resource: queueArn,
          Condition: { ArnNotEquals: { 'aws:SourceArn': ruleArn } },
        }),
      );
      // ...and EventBridge is allowed to send from this rule only.
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: expect.arrayContaining(['sqs:SendMessage']),
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
        }),
      );
      expect(statements.filter((statement) => statement.Effect === 'Allow')).toHaveLength(1);

      // The function that consumes it is told it is the events queue, and consumes its direct queue as well.
      const consumer = mappings.find(
        (mapping) => JSON.stringify(mapping.Properties.EventSourceArn) === JSON.stringify(queueArn),
      );
      const functionId = consumer?.Properties.FunctionName.Ref as string;
      const fn = functions.find(([logicalId]) => logicalId === functionId)?.[1];
      expect(fn?.Properties.Environment.Variables.EVENTS_QUEUE_ARN).toEqual(queueArn);
      const direct = mappings.filter(
        (mapping) =>
          mapping.Properties.FunctionName.Ref === functionId &&
          JSON.stringify(mapping.Properties.EventSourceArn) !== JSON.stringify(queueArn),
      );
      expect(direct).toHaveLength(1);
      const directQueueId = direct[0]?.Properties.EventSourceArn['Fn::GetAtt'][0] as string;
      // The direct queue is not a rule's target and has no rule-only policy: what arrives there is never a bus event.
      expect(rules.some(([, other]) => JSON.stringify(other.Properties.Targets).includes(`"${directQueueId}"`))).toBe(
        false,
      );
      const directPolicy = queuePolicies.find(
        (candidate) => JSON.stringify(candidate.Properties.Queues) === JSON.stringify([{ Ref: directQueueId }]),
      );
      expect(JSON.stringify(directPolicy?.Properties.PolicyDocument ?? {})).not.toContain('aws:SourceArn');
    }
  });

  it('routes "<Operation> Requested" events from the custom bus into each queue', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'sim-cancel-gateway' });
    for (const definition of operations) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { 'detail-type': [`${definition.eventName} Requested`] },
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsQueue'), 'Arn'] } })],
      });
    }
  });

  it('alarms when a dead-letter queue holds any message', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (alarm) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(alarms).toHaveLength(operations.length);
    for (const alarm of alarms)
      expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('keeps idempotency records with TTL on `expiration`, PITR and encryption', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(
      Object.values(template.findResources('AWS::DynamoDB::Table')).every(
        (resource) => resource.DeletionPolicy === 'Retain',
      ),
    ).toBe(true);
  });

  it('runs functions on arm64 with Node.js 22 or newer and active tracing', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    for (const fn of functions) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime as string)?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('starts Node with source maps only when asked to (-c sourceMaps=true): parsing them slows every cold start', () => {
    const options = (stack: Template) =>
      Object.values(stack.findResources('AWS::Lambda::Function')).map(
        (fn) => (fn.Properties.Environment.Variables as Record<string, string>).NODE_OPTIONS,
      );
    expect(new Set(options(template))).toEqual(new Set([undefined]));
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const mapped = Template.fromStack(new GatewayStack(app, 'Mapped', { routes, sourceMaps: true }));
    expect(new Set(options(mapped))).toEqual(new Set(['--enable-source-maps']));
  });

  it('gives functions a secret ARN, never a credential, in their environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MONOGOTO_SECRET_ARN: Match.anyValue(),
          IDEMPOTENCY_TABLE_NAME: Match.anyValue(),
        }),
      },
    });
    const variables = Object.values(template.findResources('AWS::Lambda::Function')).flatMap((fn) =>
      Object.keys(fn.Properties.Environment.Variables as object),
    );
    expect(variables.filter((name) => /PASSWORD|API_KEY|USERNAME/.test(name))).toEqual([]);
    template.resourceCountIs(
      'AWS::SecretsManager::Secret',
      new Set(operations.map((definition) => definition.provider)).size,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ESIM_GO_SECRET_ARN: Match.anyValue() }) },
    });
  });

  it('sets log retention on every function log group', () => {
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup')))
      expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('grants no wildcard action, and the actions the code calls (test/integration/least-privilege.test.ts proves each both ways)', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>,
    );
    const actions = statements.flatMap((statement) =>
      Array.isArray(statement.Action) ? statement.Action : [statement.Action],
    );
    expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'secretsmanager:GetSecretValue',
        'events:PutEvents',
        'sqs:SendMessage',
      ]),
    );
  });

  it('gives each route that is not an operation only its own path parameters (openapi requires none)', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    const parametersOf = (name: string) =>
      methods.find((method) => method.Properties.OperationName === name)?.Properties.RequestParameters ?? {};
    expect(parametersOf('get-operation')).toEqual({ 'method.request.path.operationId': true });
    expect(parametersOf('openapi')).toEqual({});
  });

  it('lets the operation functions only append to the audit trail, and read their own record by id for a follow-up (no Scan, Query or delete)', () => {
    const operationsTable = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((id) =>
      id.startsWith('OperationsTable'),
    ) as string;
    const onOperationsTable = (statement: { Resource: unknown }) =>
      JSON.stringify(statement.Resource).includes(operationsTable);
    for (const contract of operations) {
      const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (candidate) => candidate.Properties.Description === contract.summary,
      );
      const role = (fn?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === role))
        .flatMap(
          (policy) =>
            policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
        )
        .filter(onOperationsTable);
      const actions = statements.flatMap((statement) =>
        Array.isArray(statement.Action) ? statement.Action : [statement.Action],
      );
      expect(actions.sort(), contract.name).toEqual(
        (contract.followUps ?? []).length > 0 ? ['dynamodb:GetItem', 'dynamodb:UpdateItem'] : ['dynamodb:UpdateItem'],
      );
    }
  });

  it('gives the routes that are not operations only the grants they declare (the reference reads no table)', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const roleOf = (name: string) => {
      const summary = routes.find((route) => route.name === name)?.summary;
      const fn = Object.values(functions).find((candidate) => candidate.Properties.Description === summary);
      return (fn?.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    };
    const actionsOf = (role: string) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === role))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
        .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
    expect(actionsOf(roleOf('get-operation')).filter((action) => action.startsWith('dynamodb:'))).toEqual([
      'dynamodb:GetItem',
    ]);
    expect(actionsOf(roleOf('openapi')).filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('the time budget', () => {
  it("refuses an upstream timeout where an operation's longest chain of provider calls cannot finish inside the function timeout", () => {
    const stack = (upstreamTimeoutMs: number) => () =>
      new GatewayStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Budget', {
        routes,
        upstreamTimeoutMs,
      });
    // Monogoto: a refused cached token, a login and the cancel again: 3 x 9000 ms + the gateway's 2 s > 28 s.
    expect(stack(9000)).toThrow(
      /upstreamTimeoutMs=9000 does not fit the 28 s function timeout: cancel-esim makes up to 3 provider calls in a row.*Use at most 8666/,
    );
    expect(stack(8666)).not.toThrow();
  });

  it('synth (the CDK app) names the setting and refuses it before building anything', async () => {
    const { execFileSync } = await import('node:child_process');
    const run = () =>
      execFileSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ upstreamTimeoutMs: 25000 }),
          CDK_OUTDIR: '/tmp/sim-cancel-gateway-budget-test',
        },
        stdio: 'pipe',
      });
    expect(run).toThrow(/upstreamTimeoutMs: upstreamTimeoutMs=25000 does not fit/);
  });

  const synthApp = async (context: Record<string, unknown>, outdir: string) => {
    const { execFileSync } = await import('node:child_process');
    return () =>
      execFileSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
        stdio: 'pipe',
      });
  };

  it('puts the stage in every physical name, so two stages coexist in one account (prod keeps the names it had)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    // Both stages in one app, as in one account: created first, then synthesized.
    const stacks = ['prod', 'staging'].map((stage) => new GatewayStack(app, `Stage-${stage}`, { routes, stage }));
    const names = (index: number) => {
      const stack = Template.fromStack(stacks[index] as GatewayStack);
      const named = (type: string, property: string) =>
        Object.values(stack.findResources(type)).map((resource) => resource.Properties[property] as unknown);
      return [
        ...named('AWS::Events::EventBus', 'Name'),
        ...named('AWS::CloudWatch::Dashboard', 'DashboardName'),
        ...named('AWS::ApiGateway::RestApi', 'Name'),
      ].map(String);
    };
    const prod = names(0);
    const staging = names(1);
    expect(prod).toEqual(['sim-cancel-gateway', 'sim-cancel-gateway', 'sim-cancel-gateway']);
    expect(staging).toEqual(['sim-cancel-gateway-staging', 'sim-cancel-gateway-staging', 'sim-cancel-gateway-staging']);
    // Every other resource has a name CloudFormation generates from the stack's, which differs per stage.
    for (const name of staging) expect(prod).not.toContain(name);
  });

  it('synth refuses to deploy a provider without a setting it cannot run without, naming it and the way out', async () => {
    // sTN has no default base URL: a function deployed without it would fail every cold start.
    expect(await synthApp({}, '/tmp/sim-cancel-gateway-required-test')).toThrow(
      /stnBaseUrl: sTN cannot run without STN_BASE_URL: deploy with -c stnBaseUrl=https:\/\/\.\.\., or leave sTN out with -c providers=monogoto,esim-go/,
    );
  });

  it('synth deploys only the providers asked for (-c providers=monogoto,esim-go): no sTN function or secret', async () => {
    const { readFileSync } = await import('node:fs');
    const outdir = '/tmp/sim-cancel-gateway-subset-test';
    (await synthApp({ providers: 'monogoto,esim-go', 'aws:cdk:bundling-stacks': [] }, outdir))();
    const subset = JSON.parse(readFileSync(`${outdir}/SimCancelGateway.template.json`, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Description?: string } }>;
    };
    const descriptions = Object.values(subset.Resources).map((resource) => resource.Properties.Description ?? '');
    expect(descriptions.filter((text) => text.startsWith('sTN API credentials'))).toEqual([]);
    for (const contract of operations.filter((candidate) => candidate.provider === 'stn')) {
      expect(descriptions).not.toContain(contract.summary);
    }
    for (const contract of operations.filter((candidate) => candidate.provider !== 'stn')) {
      expect(descriptions).toContain(contract.summary);
    }
    expect(
      Object.values(subset.Resources).filter((resource) => resource.Type === 'AWS::SecretsManager::Secret'),
    ).toHaveLength(2);
  });
});
