/**
 * Everything one operation deploys: its function, its queue for direct messages, its EventBridge-only events queue
 * and their DLQ, the rule that routes "<Operation> Requested" events, the grants and the API method with request
 * parameters from the contract's own schemas.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import { LambdaIntegration, type RequestValidator, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { type EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { requestedDetailType } from '../../shared/events.js';
import { MAX_RECEIVE_COUNT } from '../../shared/sqs.js';
import { operationRoute } from '../../shared/http/routes.js';
import type { OperationContract } from '../../shared/operations/definition.js';
import { type AnyProvider, requiredSettings, variable } from '../../shared/providers/provider.js';
import { functionEntry } from '../functions.js';
import { methodRequest } from '../gateway/method-requests.js';
import { FUNCTION_TIMEOUT, OperationFunction } from './operation-function.js';

export interface OperationServiceProps {
  contract: OperationContract;
  provider: AnyProvider;
  /** This function's share of the provider's containers (the provider's limits are for all of its functions). */
  containers: number | undefined;
  secret: Secret;
  api: RestApi;
  validator: RequestValidator;
  bus: EventBus;
  tables: { idempotency: Table; operations: Table };
  environment: Record<string, string>;
  baseUrl: string | undefined;
  sourceMaps: boolean | undefined;
}

export const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase());

/** CDK context key that sets a provider's base URL: monogotoBaseUrl, esimGoBaseUrl, stnBaseUrl. */
export const baseUrlContextKey = (provider: Pick<AnyProvider, 'name'>): string =>
  `${provider.name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}BaseUrl`;

export class OperationService extends Construct {
  readonly contract: OperationContract;
  readonly fn: OperationFunction;
  readonly deadLetters: Queue;
  /** The operation's own queue: direct messages, its follow-ups, and batch items. */
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: OperationServiceProps) {
    super(scope, id);
    const { contract, provider, secret } = props;
    this.contract = contract;
    const stack = scope;
    const name = pascal(contract.name);
    // Logical ids stay as they were before this construct existed (resources are created in the stack's scope), so an
    // update does not replace queues holding messages.
    this.deadLetters = new Queue(stack, `${name}DeadLetters`, {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const consumedQueue = (queueId: string) =>
      new Queue(stack, queueId, {
        // At least six times the function timeout, as Lambda recommends for SQS event sources.
        visibilityTimeout: Duration.seconds(FUNCTION_TIMEOUT.toSeconds() * 6 + 12),
        deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    // Messages sent straight to the operation: scoped by their SQS sender.
    const queue = consumedQueue(`${name}Queue`);
    this.queue = queue;
    // Events from the operation's rule only (its policy below): the one queue whose records are read as bus events.
    const eventsQueue = consumedQueue(`${name}EventsQueue`);
    const limits = provider.limits;
    this.fn = new OperationFunction(stack, `${name}Function`, {
      entry: functionEntry(contract.name),
      description: contract.summary,
      sourceMaps: props.sourceMaps,
      reservedConcurrentExecutions: props.containers,
      environment: {
        ...props.environment,
        EVENT_BUS_NAME: props.bus.eventBusName,
        DEAD_LETTER_QUEUE_URL: this.deadLetters.queueUrl,
        EVENTS_QUEUE_ARN: eventsQueue.queueArn,
        BATCH_CONCURRENCY: String(limits.recordsPerBatch),
        ...rateLimitEnvironment(provider),
        [variable(provider, 'SECRET_ARN')]: secret.secretArn,
        ...(props.baseUrl === undefined ? {} : { [variable(provider, 'BASE_URL')]: props.baseUrl }),
      },
    });
    if (props.baseUrl === undefined && requiredSettings(provider).includes(variable(provider, 'BASE_URL'))) {
      Annotations.of(this.fn).addWarning(
        `${contract.name} needs ${variable(provider, 'BASE_URL')}: deploy with -c ${baseUrlContextKey(provider)}=https://... or its first invocation fails`,
      );
    }
    // Exactly the calls the code makes, as test/integration/least-privilege.test.ts records them (see
    // docs/least-privilege.md). The idempotency table: Powertools' records, key markers and target leases, by key only
    // (single items, or the Put/Update/Delete items of transactions), never Query, Scan or batches.
    props.tables.idempotency.grant(
      this.fn,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    // The audit trail is only appended to (one UpdateItem per attempt, alone or in the final transaction): no read,
    // scan or delete of other callers' entries.
    props.tables.operations.grant(this.fn, 'dynamodb:UpdateItem');
    props.bus.grantPutEventsTo(this.fn);
    if ((contract.followUps ?? []).length > 0) {
      // Follow-ups are delayed messages the function sends to its own queue; its consumer accepts them only from this
      // role (FOLLOW_UP_SENDER_ID is the role's unique id, the first part of its sessions' SenderId).
      this.fn.addEnvironment('FOLLOW_UP_QUEUE_URL', queue.queueUrl);
      this.fn.addEnvironment('FOLLOW_UP_SENDER_ID', (this.fn.role as Role).roleId);
      queue.grant(this.fn, 'sqs:SendMessage');
      // A check reads the operation's record (one GetItem by id) before it appends to it.
      props.tables.operations.grant(this.fn, 'dynamodb:GetItem');
    }
    // SendMessage alone: the queue URL comes from the environment (no GetQueueUrl), and nothing reads its attributes.
    this.deadLetters.grant(this.fn, 'sqs:SendMessage');
    // GetSecretValue alone (grantRead adds DescribeSecret, which nothing calls); the AWS-managed key needs no grant.
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    for (const source of [queue, eventsQueue]) {
      this.fn.addEventSource(
        new SqsEventSource(source, {
          // No more records than run at once (BATCH_CONCURRENCY): none waits behind another, so every record has a
          // whole execution's time budget and the invocation ends inside its timeout.
          batchSize: limits.recordsPerBatch,
          maxBatchingWindow: Duration.seconds(1),
          reportBatchItemFailures: true,
          maxConcurrency: limits.queueConcurrency,
        }),
      );
    }
    const rule = new Rule(stack, `${name}RequestedRule`, {
      eventBus: props.bus,
      description: `Routes "${requestedDetailType(contract.eventName)}" events to the ${contract.name} events queue`,
      eventPattern: { detailType: [requestedDetailType(contract.eventName)] },
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
    props.api.root
      .resourceForPath(contract.route.path)
      .addMethod(contract.route.method, new LambdaIntegration(this.fn), {
        operationName: contract.name,
        ...validation(props.validator, contract),
      });
  }
}

/** The method's request parameters (gateway/method-requests.ts), which the local runner enforces too. */
const validation = (validator: RequestValidator, contract: OperationContract) => ({
  requestValidator: validator,
  requestParameters: methodRequest(operationRoute(contract)).parameters,
});

/**
 * The provider's limit for the whole fleet, counted in DynamoDB (shared/rate-windows.ts) by every container of every
 * function that calls the provider; none for a provider without a published limit.
 */
export const rateLimitEnvironment = (provider: AnyProvider): Record<string, string> =>
  provider.limits.requestsPerSecond === undefined
    ? {}
    : {
        [variable(provider, 'REQUESTS_PER_SECOND')]: String(provider.limits.requestsPerSecond),
        RATE_LIMIT_SCOPE: 'fleet',
      };
