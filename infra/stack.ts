/**
 * The deployable gateway: a REST API with IAM (SigV4) authorization on every method, one function per
 * operation (routes read from the operation definitions), the idempotency table and one Secrets Manager
 * secret per provider.
 */
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, MethodLoggingLevel, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { requestedDetailType } from '../shared/events.js';
import type { RouteDefinition } from '../shared/http/routes.js';
import type { ProviderName } from '../shared/operations/definition.js';
import { IDEMPOTENCY_TABLE, OPERATIONS_TABLE } from '../shared/tables.js';
import { FUNCTION_TIMEOUT, OperationFunction } from './constructs/operation-function.js';
import { functionEntry } from './functions.js';

export interface GatewayStackProps extends StackProps {
  routes: readonly RouteDefinition[];
  /** Base URLs per provider; the providers' production URLs when absent. */
  providerBaseUrls?: Partial<Record<ProviderName, string>>;
  upstreamTimeoutMs?: number;
  idempotencyTtlSeconds?: number;
  operationsRetentionDays?: number;
}

/** What each provider's secret holds; the generated key is a placeholder to overwrite after the first deploy. */
const SECRET_SHAPES: Record<ProviderName, { template: Record<string, string>; generatedKey: string }> = {
  monogoto: { template: { username: 'set-me' }, generatedKey: 'password' },
  'esim-go': { template: {}, generatedKey: 'apiKey' },
  stn: { template: {}, generatedKey: 'apiKey' },
};

/**
 * How many queue-driven invocations of a provider's function may run at once (the event source mapping's
 * maximum concurrency; 2 is Lambda's minimum) and how many records each processes at a time. eSIM Go allows 10
 * requests per second per IP and a revoke costs 3 calls, so its event path is kept the narrowest.
 */
const EVENT_CONCURRENCY: Record<ProviderName, { functions: number; recordsPerFunction: number }> = {
  monogoto: { functions: 5, recordsPerFunction: 5 },
  'esim-go': { functions: 2, recordsPerFunction: 2 },
  stn: { functions: 5, recordsPerFunction: 5 },
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

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);

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

    this.api = new RestApi(this, 'Api', {
      restApiName: 'sim-cancel-gateway',
      description: 'Exactly-once cancellations at Monogoto, eSIM Go and sTN',
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: 50,
        throttlingBurstLimit: 100,
        loggingLevel: MethodLoggingLevel.OFF,
      },
      cloudWatchRole: false,
    });

    const shared = {
      IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
      OPERATIONS_TABLE_NAME: this.operationsTable.tableName,
      OPERATIONS_RETENTION_DAYS: String(props.operationsRetentionDays ?? 400),
    };
    const secrets = new Map<ProviderName, Secret>();
    for (const route of props.routes) {
      const definition = route.operation;
      if (definition === undefined) {
        const reader = new OperationFunction(this, `${pascal(route.name)}Function`, { entry: functionEntry(route.name), description: route.summary, environment: shared });
        this.operationsTable.grantReadData(reader);
        this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(reader), { operationName: route.name });
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
      const queue = new Queue(this, `${name}Queue`, {
        // At least six times the function timeout, as Lambda recommends for SQS event sources.
        visibilityTimeout: Duration.seconds(FUNCTION_TIMEOUT.toSeconds() * 6 + 12),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const baseUrl = props.providerBaseUrls?.[provider];
      const fn = new OperationFunction(this, `${name}Function`, {
        entry: functionEntry(definition.name),
        description: definition.summary,
        environment: {
          ...shared,
          IDEMPOTENCY_TTL_SECONDS: String(props.idempotencyTtlSeconds ?? 86400),
          UPSTREAM_TIMEOUT_MS: String(props.upstreamTimeoutMs ?? 8000),
          EVENT_BUS_NAME: this.bus.eventBusName,
          DEAD_LETTER_QUEUE_URL: deadLetters.queueUrl,
          BATCH_CONCURRENCY: String(EVENT_CONCURRENCY[provider].recordsPerFunction),
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
      fn.addEventSource(new SqsEventSource(queue, { batchSize: 10, maxBatchingWindow: Duration.seconds(1), reportBatchItemFailures: true, maxConcurrency: EVENT_CONCURRENCY[provider].functions }));
      new Rule(this, `${name}RequestedRule`, {
        eventBus: this.bus,
        description: `Routes "${requestedDetailType(definition.eventName)}" events to the ${definition.name} queue`,
        eventPattern: { detailType: [requestedDetailType(definition.eventName)] },
        targets: [new SqsQueue(queue)],
      });
      deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }).createAlarm(this, `${name}DeadLettersAlarm`, {
        alarmDescription: `Messages for ${definition.name} that need a person are waiting in its dead-letter queue`,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.api.root.resourceForPath(route.path).addMethod(route.method, new LambdaIntegration(fn), { operationName: definition.name });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    for (const [provider, secret] of secrets) new CfnOutput(this, `${pascal(provider)}SecretArn`, { value: secret.secretArn });
  }
}
