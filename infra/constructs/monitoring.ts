/**
 * Alarms (to one SNS topic) and a dashboard with one row per provider. Custom metrics come from Powertools
 * (namespace SimCancelGateway, dimensions service + operation + provider [+ outcome]).
 */
import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  type IMetric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ProviderName } from '../../shared/operations/definition.js';
import type { FollowUpKind } from '../../shared/follow-ups/schedule.js';
import { SERVICE_NAME } from '../../shared/observability.js';

export interface MonitoredOperation {
  name: string;
  provider: ProviderName;
  fn: IFunction;
  deadLetters: Queue;
  /** The follow-ups its answers may start (its contract's): graphed, and alarmed on when they stall. */
  followUps?: readonly FollowUpKind[];
}

const NAMESPACE = 'SimCancelGateway';
const period = Duration.minutes(5);

const custom = (metricName: string, dimensions: Record<string, string>, statistic = 'Sum') =>
  new Metric({
    namespace: NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, ...dimensions },
    statistic,
    period,
  });

export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;

  constructor(
    scope: Construct,
    id: string,
    props: {
      api: RestApi;
      tables: Table[];
      operations: MonitoredOperation[];
      readers: IFunction[];
      alarmEmail?: string;
      dashboardName: string;
    },
  ) {
    super(scope, id);
    // A key of our own: the AWS-managed SNS key's policy cannot be changed to let CloudWatch publish, so with it no
    // alarm notification would ever arrive.
    const key = new Key(this, 'AlarmsKey', {
      description: 'sim-cancel-gateway alarm topic: CloudWatch alarms publish through it',
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Alarms', {
      displayName: 'sim-cancel-gateway alarms',
      enforceSSL: true,
      masterKey: key,
    });
    if (props.alarmEmail !== undefined) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);
    const alarm = (name: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };

    const apiErrorRate = new MathExpression({
      expression: '100 * errors / MAX([requests, 1])',
      usingMetrics: {
        errors: props.api.metricServerError({ period, statistic: 'Sum' }),
        requests: props.api.metricCount({ period, statistic: 'Sum' }),
      },
      period,
      label: 'API 5xx rate (%)',
    });
    alarm('Api5xxRate', apiErrorRate, 5, 'More than 5% of API requests answered 5xx over 5 minutes');

    for (const table of props.tables) {
      alarm(
        `${table.node.id}Throttles`,
        table.metric('ThrottledRequests', { period, statistic: 'Sum' }),
        0,
        `DynamoDB throttled requests on ${table.node.id}`,
      );
    }
    for (const reader of props.readers)
      alarm(`${reader.node.id}Errors`, reader.metricErrors({ period }), 0, `${reader.node.id} failed`);

    const rows: Array<Array<GraphWidget | TextWidget>> = [];
    const providers = [...new Set(props.operations.map((operation) => operation.provider))];
    for (const provider of providers) {
      const operations = props.operations.filter((operation) => operation.provider === provider);
      const widgets: GraphWidget[] = [];
      for (const { name, fn, deadLetters, followUps } of operations) {
        const dims = { operation: name, provider };
        alarm(
          `${name}FunctionErrors`,
          fn.metricErrors({ period }),
          0,
          `${name}: the function failed (a bug or a timeout)`,
        );
        alarm(
          `${name}FunctionThrottles`,
          fn.metricThrottles({ period }),
          0,
          `${name}: Lambda throttled invocations (reserved concurrency reached)`,
        );
        alarm(
          `${name}UnknownOutcomes`,
          custom('UnknownOutcomes', dims),
          0,
          `${name}: provider calls ended with an unknown outcome (will be reconciled on retry)`,
        );
        const failureRate = new MathExpression({
          expression: '100 * (unknown + unreachable) / MAX([unknown + unreachable + ok + rejected, 1])',
          usingMetrics: {
            unknown: custom('ProviderCalls', { ...dims, outcome: 'unknown' }),
            unreachable: custom('ProviderCalls', { ...dims, outcome: 'not_sent' }),
            ok: custom('ProviderCalls', { ...dims, outcome: 'succeeded' }),
            rejected: custom('ProviderCalls', { ...dims, outcome: 'rejected' }),
          },
          period,
          label: `${name} provider failure rate (%)`,
        });
        alarm(
          `${name}ProviderFailureRate`,
          failureRate,
          10,
          `${name}: more than 10% of ${provider} calls failed or ended unknown over 5 minutes`,
        );
        alarm(
          `${name}DeadLetters`,
          deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
          0,
          `Messages for ${name} that need a person are waiting in its dead-letter queue`,
        );
        if (followUps !== undefined && followUps.length > 0)
          widgets.push(this.followUpsWidget(name, dims, followUps, alarm));
        widgets.push(
          new GraphWidget({
            title: `${name}: provider calls by outcome`,
            left: ['succeeded', 'rejected', 'throttled', 'not_sent', 'unknown'].map((outcome) =>
              custom('ProviderCalls', { ...dims, outcome }),
            ),
          }),
          new GraphWidget({
            title: `${name}: provider latency`,
            left: [
              custom('ProviderLatency', { ...dims, outcome: 'succeeded' }, 'p50'),
              custom('ProviderLatency', { ...dims, outcome: 'succeeded' }, 'p99'),
            ],
          }),
          new GraphWidget({
            title: `${name}: errors, throttles, DLQ`,
            left: [
              fn.metricErrors({ period }),
              fn.metricThrottles({ period }),
              deadLetters.metricApproximateNumberOfMessagesVisible({ period }),
            ],
          }),
        );
      }
      rows.push([new TextWidget({ markdown: `## ${provider}`, width: 24, height: 1 })], widgets);
    }
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, widgets: rows });
  }

  /**
   * Follow-ups: the checks that reached a final state, the ones that stalled (alarmed: a person must look) and, for
   * refunds, the mismatches between the predicted refund and eSIM Go's history (alarmed: money).
   */
  private followUpsWidget(
    name: string,
    dims: Record<string, string>,
    followUps: readonly FollowUpKind[],
    alarm: (name: string, metric: IMetric, threshold: number, description: string) => Alarm,
  ): GraphWidget {
    const checks = (followUp: FollowUpKind, outcome: string) =>
      custom('FollowUpChecks', { ...dims, followUp, outcome });
    const stalled = new MathExpression({
      expression: followUps.map((_, index) => `s${index}`).join(' + '),
      usingMetrics: Object.fromEntries(followUps.map((followUp, index) => [`s${index}`, checks(followUp, 'stalled')])),
      period,
      label: `${name} follow-ups stalled`,
    });
    alarm(
      `${name}FollowUpsStalled`,
      stalled,
      0,
      `${name}: an operation is still not final at FOLLOW_UP_DEADLINE_SECONDS (status stalled): a person must look`,
    );
    const mismatches = custom('RefundMismatches', dims);
    if (followUps.includes('refund'))
      alarm(
        `${name}RefundMismatches`,
        mismatches,
        0,
        `${name}: eSIM Go's history shows another refund than the revoke predicted (or none)`,
      );
    return new GraphWidget({
      title: `${name}: follow-ups (final, stalled${followUps.includes('refund') ? ', refund mismatches' : ''})`,
      left: [
        ...followUps.flatMap((followUp) => [checks(followUp, 'final'), checks(followUp, 'stalled')]),
        ...(followUps.includes('refund') ? [mismatches] : []),
      ],
    });
  }
}
