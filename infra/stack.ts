/**
 * The deployable gateway: a REST API with IAM (SigV4) authorization on every method, one function per
 * operation (routes read from the operation definitions), the idempotency table and one Secrets Manager
 * secret per provider.
 */
import { Annotations, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, MethodLoggingLevel, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { OperationDefinition, ProviderName } from '../shared/operations/definition.js';
import { IDEMPOTENCY_TABLE } from '../shared/tables.js';
import { OperationFunction } from './constructs/operation-function.js';
import { functionEntry } from './functions.js';

export interface GatewayStackProps extends StackProps {
  operations: readonly OperationDefinition[];
  /** Base URLs per provider; the providers' production URLs when absent. */
  providerBaseUrls?: Partial<Record<ProviderName, string>>;
  upstreamTimeoutMs?: number;
  idempotencyTtlSeconds?: number;
}

/** What each provider's secret holds; the generated key is a placeholder to overwrite after the first deploy. */
const SECRET_SHAPES: Record<ProviderName, { template: Record<string, string>; generatedKey: string }> = {
  monogoto: { template: { username: 'set-me' }, generatedKey: 'password' },
  'esim-go': { template: {}, generatedKey: 'apiKey' },
  stn: { template: {}, generatedKey: 'apiKey' },
};

/** CDK context key that sets a provider's base URL: monogotoBaseUrl, esimGoBaseUrl, stnBaseUrl. */
export const baseUrlContextKey = (provider: ProviderName): string => `${provider.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}BaseUrl`;

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase());
const envPrefix = (provider: ProviderName) => provider.toUpperCase().replace('-', '_');

export class GatewayStack extends Stack {
  readonly api: RestApi;
  readonly idempotencyTable: Table;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);

    this.idempotencyTable = new Table(this, 'IdempotencyTable', {
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.ttlAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });

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

    const secrets = new Map<ProviderName, Secret>();
    for (const definition of props.operations) {
      const provider = definition.provider;
      let secret = secrets.get(provider);
      if (secret === undefined) {
        secret = new Secret(this, `${pascal(provider)}Credentials`, {
          description: `${provider} API credentials for sim-cancel-gateway; set the real values after the first deploy`,
          generateSecretString: { secretStringTemplate: JSON.stringify(SECRET_SHAPES[provider].template), generateStringKey: SECRET_SHAPES[provider].generatedKey },
        });
        secrets.set(provider, secret);
      }
      const baseUrl = props.providerBaseUrls?.[provider];
      const fn = new OperationFunction(this, `${pascal(definition.name)}Function`, {
        entry: functionEntry(definition.name),
        description: definition.summary,
        environment: {
          IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
          IDEMPOTENCY_TTL_SECONDS: String(props.idempotencyTtlSeconds ?? 86400),
          UPSTREAM_TIMEOUT_MS: String(props.upstreamTimeoutMs ?? 8000),
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
      secret.grantRead(fn);
      this.api.root
        .resourceForPath(definition.route.path)
        .addMethod(definition.route.method, new LambdaIntegration(fn), { operationName: definition.name });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
    for (const [provider, secret] of secrets) new CfnOutput(this, `${pascal(provider)}SecretArn`, { value: secret.secretArn });
  }
}
