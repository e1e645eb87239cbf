/**
 * The deployable gateway: a REST API with IAM (SigV4) authorization on every method, one function per
 * operation (routes read from the operation definitions), the idempotency table and one Secrets Manager
 * secret per provider.
 */
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat, AuthorizationType, type JsonSchema, JsonSchemaVersion, LambdaIntegration, LogGroupLogDestination, MethodLoggingLevel, type RequestValidator, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { z } from 'zod';
import { MAX_BODY_BYTES } from '../shared/http/request.js';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { requestedDetailType } from '../shared/events.js';
import type { RouteDefinition } from '../shared/http/routes.js';
import type { OperationDefinition, ProviderName } from '../shared/operations/definition.js';
import { IDEMPOTENCY_TABLE, OPERATIONS_TABLE } from '../shared/tables.js';
import { acknowledgeFindings } from './nag.js';
import { addProblemResponses, resourcePolicy } from './api-access.js';
import { type MonitoredOperation, Monitoring } from './constructs/monitoring.js';
import { FUNCTION_TIMEOUT, OperationFunction } from './constructs/operation-function.js';
import { functionEntry } from './functions.js';
import { timeBudgetProblem } from './time-budget.js';

export interface GatewayStackProps extends StackProps {
  routes: readonly RouteDefinition[];
  /** Base URLs per provider; the providers' production URLs when absent. */
  providerBaseUrls?: Partial<Record<ProviderName, string>>;
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
  /** Reserve each provider function's concurrency (see PROVIDER_LIMITS); off for accounts with a small quota. */
  reserveConcurrency?: boolean;
  /** Source-mapped stack traces in the functions' logs, at a cold-start cost (see OperationFunctionProps). */
  sourceMaps?: boolean;
}

/** What each provider's secret holds; the generated key is a placeholder to overwrite after the first deploy. */
const SECRET_SHAPES: Record<ProviderName, { template: Record<string, string>; generatedKey: string }> = {
  monogoto: { template: { username: 'set-me' }, generatedKey: 'password' },
  'esim-go': { template: {}, generatedKey: 'apiKey' },
  stn: { template: {}, generatedKey: 'apiKey' },
};

/**
 * Concurrency per provider, so the fleet cannot exceed a provider's rate limit:
 * - `reserved`: the function's reserved concurrency, a hard cap on containers (HTTP and queue together);
 * - `queueFunctions`: each event source mapping's maximum concurrency (Lambda's minimum is 2). A function has two
 *   mappings (its queue and its events queue), so queues may take twice this, which stays under `reserved` to leave
 *   room for HTTP callers;
 * - `recordsPerFunction`: records of one batch processed at once in one container;
 * - `requestsPerSecond`: the client's own per-container rate limit.
 * The provider's rate is bounded by `reserved`, whatever the mappings allow: eSIM Go allows 10 requests/second per IP
 * and a revoke makes 3 (two reads, one write): 5 containers x 2 requests/s = 10 requests/s at most, fleet-wide, HTTP
 * and both queues together. Monogoto's portal API allows 60/min on the Standard plan, 300 on Business; sTN publishes
 * no number: both get 5 containers, and a 429 is answered 503 with Retry-After (and retried on queues). Queues take
 * at most 2 x 2 = 4 of the 5 containers of each.
 */
export const PROVIDER_LIMITS: Record<ProviderName, { reserved: number; queueFunctions: number; recordsPerFunction: number; requestsPerSecond?: number }> = {
  monogoto: { reserved: 5, queueFunctions: 2, recordsPerFunction: 5 },
  'esim-go': { reserved: 5, queueFunctions: 2, recordsPerFunction: 2, requestsPerSecond: 2 },
  stn: { reserved: 5, queueFunctions: 2, recordsPerFunction: 5 },
};

/** CDK context key that sets a provider's base URL: monogotoBaseUrl, esimGoBaseUrl, stnBaseUrl. */
export const baseUrlContextKey = (provider: ProviderName): string => `${provider.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}BaseUrl`;

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
const envPrefix = (provider: ProviderName) => provider.toUpperCase().replace('-', '_');

export class GatewayStack extends Stack {
  readonly api: RestApi;
  readonly idempotencyTable: Table;
  readonly operationsTable: Table;
  readonly bus: EventBus;
  readonly monitoring: Monitoring;
  readonly validator: RequestValidator;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const budget = timeBudgetProblem(props.routes.flatMap((route) => (route.operation === undefined ? [] : [route.operation])), props.upstreamTimeoutMs ?? 8000);
    if (budget !== undefined) throw new Error(budget);

    const table = (name: string, schema: { partitionKey: string; ttlAttribute: string }) =>
      new Table(this, name, {
        partitionKey: { name: schema.partitionKey, type: AttributeType.STRING },
        timeToLiveAttribute: schema.ttlAttribute,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.idempotencyTable = table('IdempotencyTable', IDEMPOTENCY_TABLE);
    this.operationsTable = table('OperationsTable', OPERATIONS_TABLE);
    this.bus = new EventBus(this, 'Bus', { eventBusName: 'sim-cancel-gateway' });

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new RestApi(this, 'Api', {
      restApiName: 'sim-cancel-gateway',
      description: 'Exactly-once cancellations at Monogoto, eSIM Go and sTN',
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      policy: resourcePolicy(props),
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
        // Per method as well, so one busy route cannot take the whole stage's budget.
        methodOptions: Object.fromEntries(props.routes.map((route) => [`${route.path}/${route.method}`, { throttlingRateLimit: 20, throttlingBurstLimit: 40 }])),
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({ caller: true, httpMethod: true, ip: true, protocol: true, requestTime: true, resourcePath: true, responseLength: true, status: true, user: true }),
      },
      // Execution logs and access logs need API Gateway's account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
    });
    addProblemResponses(this.api);
    this.validator = this.api.addRequestValidator('Validator', { validateRequestBody: true, validateRequestParameters: true });

    const shared = {
      IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
      OPERATIONS_TABLE_NAME: this.operationsTable.tableName,
      OPERATIONS_RETENTION_DAYS: String(props.operationsRetentionDays ?? 400),
    };
    const secrets = new Map<ProviderName, Secret>();
    const monitored: MonitoredOperation[] = [];
    const readers: OperationFunction[] = [];
    for (const route of props.routes) {
      const definition = route.operation;
      if (definition === undefined) {
        const reader = new OperationFunction(this, `${pascal(route.name)}Function`, { entry: functionEntry(route.name), description: route.summary, environment: shared, sourceMaps: props.sourceMaps });
        readers.push(reader);
        this.operationsTable.grantReadData(reader);
        this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(reader), {
          operationName: route.name,
          requestValidator: this.validator,
          requestParameters: { 'method.request.path.operationId': true },
        });
        continue;
      }
      const provider = definition.provider;
      let secret = secrets.get(provider);
      if (secret === undefined) {
        secret = new Secret(this, `${pascal(provider)}Credentials`, {
          description: `${provider} API credentials for sim-cancel-gateway; set the real values after the first deploy`,
          generateSecretString: { secretStringTemplate: JSON.stringify(SECRET_SHAPES[provider].template), generateStringKey: SECRET_SHAPES[provider].generatedKey },
        });
        secrets.set(provider, secret);
      }
      const name = pascal(definition.name);
      const deadLetters = new Queue(this, `${name}DeadLetters`, { retentionPeriod: Duration.days(14), encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true });
      const consumedQueue = (id: string) =>
        new Queue(this, id, {
          // At least six times the function timeout, as Lambda recommends for SQS event sources.
          visibilityTimeout: Duration.seconds(FUNCTION_TIMEOUT.toSeconds() * 6 + 12),
          deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
          encryption: QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
        });
      // Messages sent straight to the operation: scoped by their SQS sender.
      const queue = consumedQueue(`${name}Queue`);
      // Events from the operation's rule only (its policy below): the one queue whose records are read as bus events.
      const eventsQueue = consumedQueue(`${name}EventsQueue`);
      const baseUrl = props.providerBaseUrls?.[provider];
      const fn = new OperationFunction(this, `${name}Function`, {
        entry: functionEntry(definition.name),
        description: definition.summary,
        sourceMaps: props.sourceMaps,
        reservedConcurrentExecutions: props.reserveConcurrency === false ? undefined : PROVIDER_LIMITS[provider].reserved,
        environment: {
          ...shared,
          IDEMPOTENCY_TTL_SECONDS: String(props.idempotencyTtlSeconds ?? 86400),
          UPSTREAM_TIMEOUT_MS: String(props.upstreamTimeoutMs ?? 8000),
          EVENT_BUS_NAME: this.bus.eventBusName,
          DEAD_LETTER_QUEUE_URL: deadLetters.queueUrl,
          EVENTS_QUEUE_ARN: eventsQueue.queueArn,
          BATCH_CONCURRENCY: String(PROVIDER_LIMITS[provider].recordsPerFunction),
          ...(PROVIDER_LIMITS[provider].requestsPerSecond === undefined ? {} : { [`${envPrefix(provider)}_REQUESTS_PER_SECOND`]: String(PROVIDER_LIMITS[provider].requestsPerSecond) }),
          [`${envPrefix(provider)}_SECRET_ARN`]: secret.secretArn,
          ...(baseUrl === undefined ? {} : { [`${envPrefix(provider)}_BASE_URL`]: baseUrl }),
        },
      });
      for (const setting of definition.requiredConfig ?? []) {
        if (setting === `${envPrefix(provider)}_BASE_URL` && baseUrl === undefined) {
          Annotations.of(fn).addWarning(`${definition.name} needs ${setting}: deploy with -c ${baseUrlContextKey(provider)}=https://... or its first invocation fails`);
        }
      }
      this.idempotencyTable.grantReadWriteData(fn);
      this.operationsTable.grantReadWriteData(fn);
      this.bus.grantPutEventsTo(fn);
      deadLetters.grantSendMessages(fn);
      secret.grantRead(fn);
      for (const source of [queue, eventsQueue]) {
        fn.addEventSource(new SqsEventSource(source, { batchSize: 10, maxBatchingWindow: Duration.seconds(1), reportBatchItemFailures: true, maxConcurrency: PROVIDER_LIMITS[provider].queueFunctions }));
      }
      const rule = new Rule(this, `${name}RequestedRule`, {
        eventBus: this.bus,
        description: `Routes "${requestedDetailType(definition.eventName)}" events to the ${definition.name} events queue`,
        eventPattern: { detailType: [requestedDetailType(definition.eventName)] },
        targets: [new SqsQueue(eventsQueue)],
      });
      // The target adds an Allow for events.amazonaws.com from this rule; the Deny makes the rule the only sender,
      // whoever else IAM allows (ArnNotEquals also matches a request without aws:SourceArn), so a record of this
      // queue is always a bus event and can be scoped by its event source.
      eventsQueue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'OnlyTheRequestedRuleSends',
          effect: Effect.DENY,
          principals: [new AnyPrincipal()],
          actions: ['sqs:SendMessage'],
          resources: [eventsQueue.queueArn],
          conditions: { ArnNotEquals: { 'aws:SourceArn': rule.ruleArn } },
        }),
      );
      monitored.push({ name: definition.name, provider, fn, deadLetters });
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn), { operationName: definition.name, ...this.validation(definition) });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', { api: this.api, tables: [this.idempotencyTable, this.operationsTable], operations: monitored, readers, alarmEmail: props.alarmEmail });
    if (props.enableWaf === true) this.addWaf();
    acknowledgeFindings(this);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    for (const [provider, secret] of secrets) new CfnOutput(this, `${pascal(provider)}SecretArn`, { value: secret.secretArn });
  }

  /**
   * API Gateway request validation from the operation's own schemas (no hand-written copy): required path and
   * query parameters, and the JSON body model where the body is required. The handler validates everything again
   * (and more precisely); this stops malformed requests before they cost an invocation.
   */
  private validation(definition: OperationDefinition) {
    const parameters: Record<string, boolean> = {};
    for (const name of Object.keys(definition.request.path.shape)) parameters[`method.request.path.${name}`] = true;
    for (const name of Object.keys(definition.request.query.shape)) parameters[`method.request.querystring.${name}`] = false;
    const body = definition.request.body;
    const bodySchema = body === undefined ? undefined : (z.toJSONSchema(body, { target: 'draft-4', io: 'input' }) as JsonSchema & { required?: string[] });
    const requestModels =
      bodySchema !== undefined && (bodySchema.required ?? []).length > 0
        ? { 'application/json': this.api.addModel(`${pascal(definition.name)}Body`, { contentType: 'application/json', modelName: `${pascal(definition.name).replaceAll('-', '')}Body`, schema: { ...bodySchema, $schema: JsonSchemaVersion.DRAFT4 } as JsonSchema }) }
        : undefined;
    return { requestValidator: this.validator, requestParameters: parameters, requestModels };
  }

  private addWaf(): void {
    const acl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'sim-cancel-gateway', sampledRequestsEnabled: true },
      rules: [
        { name: 'common', priority: 0, overrideAction: { none: {} }, statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesCommonRuleSet' } }, visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'common', sampledRequestsEnabled: true } },
        { name: 'ip-reputation', priority: 1, overrideAction: { none: {} }, statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesAmazonIpReputationList' } }, visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'ip-reputation', sampledRequestsEnabled: true } },
        {
          name: 'body-size',
          priority: 2,
          action: { block: {} },
          statement: { sizeConstraintStatement: { fieldToMatch: { body: { oversizeHandling: 'MATCH' } }, comparisonOperator: 'GT', size: MAX_BODY_BYTES, textTransformations: [{ priority: 0, type: 'NONE' }] } },
          visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'body-size', sampledRequestsEnabled: true },
        },
      ],
    });
    new CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: acl.attrArn });
  }
}
