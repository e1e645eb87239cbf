/**
 * The deployable gateway: a REST API with IAM (SigV4) authorization on every method, one function per
 * operation (routes read from the operation definitions), the idempotency table and one Secrets Manager
 * secret per provider.
 */
import { CfnOutput, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { MAX_BODY_BYTES } from '../shared/http/request.js';
import { AttributeType, BillingMode, type CfnTable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { ReaderGrant, RouteDefinition } from '../shared/http/routes.js';
import type { OperationContract } from '../shared/operations/definition.js';
import { type AnyProvider, variable } from '../shared/providers/provider.js';
import { providers as registeredProviders } from '../shared/providers/registry.js';
import { BATCHES_TABLE, IDEMPOTENCY_TABLE, OPERATIONS_INDEXES, OPERATIONS_TABLE } from '../shared/tables.js';
import { acknowledgeFindings } from './nag.js';
import { addProblemResponses, resourcePolicy } from './api-access.js';
import { type MonitoredOperation, Monitoring } from './constructs/monitoring.js';
import { OperationFunction } from './constructs/operation-function.js';
import { OperationService, pascal, rateLimitEnvironment } from './constructs/operation-service.js';
import { functionEntry } from './functions.js';
import { REQUEST_VALIDATOR, methodRequest } from './gateway/method-requests.js';
import { timeBudgetProblem } from './time-budget.js';

export interface GatewayStackProps extends StackProps {
  routes: readonly RouteDefinition[];
  /** The providers to deploy for (their secrets, limits and settings); every registered one by default. */
  providers?: readonly AnyProvider[];
  /** Base URLs per provider name; the providers' production URLs when absent. */
  providerBaseUrls?: Partial<Record<string, string | undefined>>;
  upstreamTimeoutMs?: number;
  idempotencyTtlSeconds?: number;
  operationsRetentionDays?: number;
  /** When set, a resource policy lets only these AWS accounts call the API (IAM still authenticates each caller). */
  allowedAccounts?: string[];
  /** When set, the API can be called only through these VPC endpoints. */
  allowedVpcEndpoints?: string[];
  /** Alarm notifications go to this address (an SNS email subscription). */
  alarmEmail?: string;
  /** Attach a WAF web ACL (AWS managed common rules and IP reputation, 16 KiB body limit) to the stage. */
  enableWaf?: boolean;
  /** Reserve each function's share of its provider's containers (ProviderLimits); off for accounts with a small quota. */
  reserveConcurrency?: boolean;
  /**
   * The stage (`-c stage=`, default `prod`): every physical name carries it, so two stages coexist in one account.
   * `prod` keeps the names the gateway always had (producers address the bus `sim-cancel-gateway` by name).
   */
  stage?: string;
  /** Source-mapped stack traces in the functions' logs, at a cold-start cost (see OperationFunctionProps). */
  sourceMaps?: boolean;
}

/** A physical name in a stage: `sim-cancel-gateway` in prod, `sim-cancel-gateway-<stage>` in every other. */
export const physicalName =
  (stage = 'prod') =>
  (base: string): string =>
    stage === 'prod' ? base : `${base}-${stage}`;

export class GatewayStack extends Stack {
  readonly stage: string;
  readonly api: RestApi;
  readonly idempotencyTable: Table;
  readonly operationsTable: Table;
  readonly batchesTable: Table;
  readonly bus: EventBus;
  readonly monitoring: Monitoring;
  readonly validator: RequestValidator;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    this.stage = props.stage ?? 'prod';
    const budget = timeBudgetProblem(
      props.routes.flatMap((route) => (route.operation === undefined ? [] : [route.operation])),
      props.upstreamTimeoutMs ?? 8000,
    );
    if (budget !== undefined) throw new Error(budget);

    const table = (
      name: string,
      schema: { partitionKey: string; sortKey?: string; ttlAttribute: string },
      indexes: ReadonlyArray<(typeof OPERATIONS_INDEXES)[keyof typeof OPERATIONS_INDEXES]> = [],
    ) => {
      const created = new Table(this, name, {
        partitionKey: { name: schema.partitionKey, type: AttributeType.STRING },
        ...(schema.sortKey === undefined ? {} : { sortKey: { name: schema.sortKey, type: AttributeType.STRING } }),
        timeToLiveAttribute: schema.ttlAttribute,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      if (indexes.length > 0) addIndexes(created, schema.partitionKey, indexes);
      return created;
    };
    this.idempotencyTable = table('IdempotencyTable', IDEMPOTENCY_TABLE);
    // The history routes read it by caller and by caller and target, newest first (shared/history/query.ts).
    this.operationsTable = table('OperationsTable', OPERATIONS_TABLE, Object.values(OPERATIONS_INDEXES));
    this.batchesTable = table('BatchesTable', BATCHES_TABLE);
    const named = physicalName(props.stage);
    this.bus = new EventBus(this, 'Bus', { eventBusName: named('sim-cancel-gateway') });

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: named('sim-cancel-gateway'),
      description: 'Exactly-once cancellations at Monogoto, eSIM Go and sTN',
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      policy: resourcePolicy(props),
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
        // Per method as well, so one busy route cannot take the whole stage's budget.
        methodOptions: Object.fromEntries(
          props.routes.map((route) => [
            `${route.path}/${route.method}`,
            { throttlingRateLimit: 20, throttlingBurstLimit: 40 },
          ]),
        ),
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
      // Execution logs and access logs need API Gateway's account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
    });
    addProblemResponses(this.api);
    this.validator = this.api.addRequestValidator('Validator', REQUEST_VALIDATOR);

    const shared = {
      IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
      OPERATIONS_TABLE_NAME: this.operationsTable.tableName,
      BATCHES_TABLE_NAME: this.batchesTable.tableName,
      OPERATIONS_RETENTION_DAYS: String(props.operationsRetentionDays ?? 400),
    };
    // Batch items: the functions that start them, and the operations that run them (wired once both exist).
    const batchStarters: OperationFunction[] = [];
    const services: OperationService[] = [];
    const providers = props.providers ?? registeredProviders;
    const secrets = new Map<string, Secret>();
    for (const provider of providers) {
      secrets.set(
        provider.name,
        new Secret(this, `${pascal(provider.name)}Credentials`, {
          description: `${provider.label} API credentials for sim-cancel-gateway; set the real values after the first deploy`,
          generateSecretString: {
            secretStringTemplate: JSON.stringify(provider.secret.template),
            generateStringKey: provider.secret.generatedKey,
          },
        }),
      );
    }
    const monitored: MonitoredOperation[] = [];
    const readers: OperationFunction[] = [];
    for (const route of props.routes) {
      const contract = route.operation;
      if (contract === undefined) {
        // The providers whose read API the route calls, among those deployed (without one, its part is unavailable).
        const reads = (route.providerReads ?? []).flatMap((name) => {
          const provider = providers.find((candidate) => candidate.name === name);
          const secret = secrets.get(name);
          return provider === undefined || secret === undefined ? [] : [{ provider, secret }];
        });
        const reader = new OperationFunction(this, `${pascal(route.name)}Function`, {
          entry: functionEntry(route.name),
          description: route.summary,
          memorySize: route.memoryMb,
          environment: {
            ...shared,
            ...(reads.length === 0 ? {} : { UPSTREAM_TIMEOUT_MS: String(props.upstreamTimeoutMs ?? 8000) }),
            ...Object.fromEntries(
              reads.flatMap(({ provider, secret }) => {
                const baseUrl = props.providerBaseUrls?.[provider.name];
                return [
                  [variable(provider, 'SECRET_ARN'), secret.secretArn],
                  ...(baseUrl === undefined ? [] : [[variable(provider, 'BASE_URL'), baseUrl]]),
                  // The provider's limit, shared with its operations (docs/history.md).
                  ...Object.entries(rateLimitEnvironment(provider)),
                ];
              }),
            ),
          },
          sourceMaps: props.sourceMaps,
        });
        readers.push(reader);
        for (const grant of route.grants ?? []) this.grantReader(reader, grant);
        if (route.grants?.includes('start-batch-items') === true) batchStarters.push(reader);
        // The providers' rate-limit windows (shared/rate-windows.ts): one UpdateItem per call, on `rate#` items only.
        if (reads.some(({ provider }) => provider.limits.requestsPerSecond !== undefined))
          reader.addToRolePolicy(
            new PolicyStatement({
              actions: ['dynamodb:UpdateItem'],
              resources: [this.idempotencyTable.tableArn],
              conditions: {
                'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${IDEMPOTENCY_TABLE.rateWindowPrefix}*`] },
              },
            }),
          );
        // GetSecretValue alone, as the operations have it (grantRead adds DescribeSecret, which nothing calls).
        for (const { secret } of reads)
          reader.addToRolePolicy(
            new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
          );
        this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(reader), {
          operationName: route.name,
          requestValidator: this.validator,
          requestParameters: methodRequest(route).parameters,
        });
        continue;
      }
      const provider = providers.find((candidate) => candidate.name === contract.provider);
      if (provider === undefined)
        throw new Error(`${contract.name} names provider ${contract.provider}, which has no descriptor`);
      const service = new OperationService(this, `${pascal(contract.name)}Service`, {
        contract,
        provider,
        containers: props.reserveConcurrency === false ? undefined : containerShare(provider, contract, props.routes),
        secret: secrets.get(provider.name) as Secret,
        api: this.api,
        validator: this.validator,
        bus: this.bus,
        tables: { idempotency: this.idempotencyTable, operations: this.operationsTable },
        environment: {
          ...shared,
          IDEMPOTENCY_TTL_SECONDS: String(props.idempotencyTtlSeconds ?? 86400),
          UPSTREAM_TIMEOUT_MS: String(props.upstreamTimeoutMs ?? 8000),
        },
        baseUrl: props.providerBaseUrls?.[provider.name],
        sourceMaps: props.sourceMaps,
      });
      services.push(service);
      monitored.push({
        name: contract.name,
        provider: provider.name,
        fn: service.fn,
        deadLetters: service.deadLetters,
        followUps: contract.followUps ?? [],
      });
    }

    this.wireBatches(batchStarters, services);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      api: this.api,
      tables: [this.idempotencyTable, this.operationsTable],
      operations: monitored,
      readers,
      alarmEmail: props.alarmEmail,
      dashboardName: named('sim-cancel-gateway'),
    });
    if (props.enableWaf === true) this.addWaf();
    acknowledgeFindings(this);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    for (const [provider, secret] of secrets)
      new CfnOutput(this, `${pascal(provider)}SecretArn`, { value: secret.secretArn });
  }

  /**
   * Exactly what a reader route declares: GetItem on the table (shared/audit.ts readOperation), or Query on one index
   * (shared/history/query.ts). Never Scan, and never `<table>/index/*`.
   */
  private grantReader(reader: OperationFunction, grant: ReaderGrant): void {
    // Batches: the items' store (one Query reads a batch's items), and their messages to the operations' queues.
    const batchActions = {
      'read-batch': 'dynamodb:GetItem',
      'list-batch-items': 'dynamodb:Query',
      'create-batch-items': 'dynamodb:BatchWriteItem',
      'move-batch': 'dynamodb:UpdateItem',
    } as const;
    if (grant in batchActions) {
      this.batchesTable.grant(reader, batchActions[grant as keyof typeof batchActions]);
      return;
    }
    if (grant === 'start-batch-items') return; // per operation queue, in wireBatches
    if (grant === 'read-operations') {
      this.operationsTable.grant(reader, 'dynamodb:GetItem');
      return;
    }
    const index = grant === 'query-by-caller' ? OPERATIONS_INDEXES.byCaller : OPERATIONS_INDEXES.byCallerTarget;
    reader.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${this.operationsTable.tableArn}/index/${index.name}`],
      }),
    );
  }

  /**
   * The batch functions send items to every operation's queue (BATCH_QUEUE_URLS), and each operation accepts them only
   * from those functions' roles and its own (BATCH_SENDER_IDS: it puts items back for later, BATCH_RETRY_QUEUE_URL),
   * and reads and moves the items in the batches table.
   */
  private wireBatches(starters: readonly OperationFunction[], services: readonly OperationService[]): void {
    if (starters.length === 0) return;
    const urls = Object.fromEntries(services.map((service) => [service.contract.name, service.queue.queueUrl]));
    for (const starter of starters) {
      starter.addEnvironment('BATCH_QUEUE_URLS', Stack.of(this).toJsonString(urls));
      for (const service of services) service.queue.grant(starter, 'sqs:SendMessage');
    }
    const starterIds = starters.map((starter) => (starter.role as Role).roleId);
    for (const service of services) {
      // The operation's own role too: it puts an item back on its own queue for later (shared/batches/put-back.ts).
      service.fn.addEnvironment('BATCH_SENDER_IDS', Fn.join(',', [...starterIds, (service.fn.role as Role).roleId]));
      service.fn.addEnvironment('BATCH_RETRY_QUEUE_URL', service.queue.queueUrl);
      service.queue.grant(service.fn, 'sqs:SendMessage');
      this.batchesTable.grant(service.fn, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    }
  }

  private addWaf(): void {
    const acl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: physicalName(this.stage)('sim-cancel-gateway'),
        sampledRequestsEnabled: true,
      },
      rules: [
        {
          name: 'common',
          priority: 0,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // Its 8 KB body limit would block every batch of more than a few dozen items: body-size below says
              // what is too big, per route.
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'common', sampledRequestsEnabled: true },
        },
        {
          name: 'ip-reputation',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesAmazonIpReputationList' },
          },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: 'ip-reputation',
            sampledRequestsEnabled: true,
          },
        },
        {
          name: 'body-size',
          priority: 2,
          action: { block: {} },
          // Every body over MAX_BODY_BYTES, but a batch's (up to 10,000 items; API Gateway's own 10 MB applies).
          statement: {
            andStatement: {
              statements: [
                {
                  sizeConstraintStatement: {
                    fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
                    comparisonOperator: 'GT',
                    size: MAX_BODY_BYTES,
                    textTransformations: [{ priority: 0, type: 'NONE' }],
                  },
                },
                {
                  notStatement: {
                    statement: {
                      byteMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        positionalConstraint: 'ENDS_WITH',
                        searchString: '/v1/batches',
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                  },
                },
              ],
            },
          },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'body-size', sampledRequestsEnabled: true },
        },
      ],
    });
    new CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });
  }
}

/**
 * Global secondary indexes (string keys, every attribute projected) on the table's CloudFormation resource. Not through
 * the L2's addGlobalSecondaryIndex: once the L2 knows of an index, every `table.grant()` also covers `<table>/index/*`,
 * so the operation functions' UpdateItem and get-operation's GetItem would reach every index, which the least-privilege
 * test (exact grants only) and cdk-nag (IAM5) refuse. The history functions get Query on their index by its ARN.
 */
const addIndexes = (
  table: Table,
  partitionKey: string,
  indexes: ReadonlyArray<{ name: string; partitionKey: string; sortKey: string }>,
): void => {
  const resource = table.node.defaultChild as CfnTable;
  const attributes = [...new Set([partitionKey, ...indexes.flatMap((index) => [index.partitionKey, index.sortKey])])];
  resource.attributeDefinitions = attributes.map((attributeName) => ({ attributeName, attributeType: 'S' }));
  resource.globalSecondaryIndexes = indexes.map((index) => ({
    indexName: index.name,
    keySchema: [
      { attributeName: index.partitionKey, keyType: 'HASH' },
      { attributeName: index.sortKey, keyType: 'RANGE' },
    ],
    projection: { projectionType: 'ALL' },
  }));
};

/**
 * A function's share of its provider's containers: the provider's limits hold for all of its functions together, so
 * a second operation on a provider splits the containers instead of doubling the rate the provider sees.
 */
export const containerShare = (
  provider: AnyProvider,
  contract: OperationContract,
  routes: readonly RouteDefinition[],
): number => {
  const siblings = routes.flatMap((route) =>
    route.operation?.provider === provider.name ? [route.operation.name] : [],
  );
  if (siblings.length > provider.limits.containers)
    throw new Error(
      `${provider.label} has ${siblings.length} operations but ${provider.limits.containers} containers: each function needs at least one`,
    );
  const base = Math.floor(provider.limits.containers / siblings.length);
  const share = base + (siblings.indexOf(contract.name) < provider.limits.containers % siblings.length ? 1 : 0);
  // Each function has two queue mappings of at least queueConcurrency each; HTTP callers need room beside them.
  const queues = 2 * provider.limits.queueConcurrency;
  if (share <= queues)
    throw new Error(
      `${provider.label}: ${contract.name} gets ${share} of ${provider.limits.containers} containers, but its queues may take ${queues}; give ${provider.label} at least ${(queues + 1) * siblings.length} containers`,
    );
  return share;
};
