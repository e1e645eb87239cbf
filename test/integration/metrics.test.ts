/**
 * The metrics a request writes (Powertools EMF lines on stdout, as CloudWatch ingests them) carry the dimensions the
 * synthesized dashboard and alarms graph: every custom metric of the dashboard that these requests produce is matched,
 * by name and by its exact set of dimensions.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { GatewayStack } from '../../infra/stack.js';
import type { StnSimulator } from '../../sandbox/stn/simulator.js';
import { activation } from '../../sandbox/stn/simulator.js';
import { routes } from '../../shared/http/routes.js';
import type { OperationDefinition } from '../../shared/operations/definition.js';
import { type Handler, invoke, loadOperation, startStn } from '../../testkit/harness.js';

interface Emf {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
  [dimension: string]: unknown;
}

const written: string[] = [];
const write = process.stdout.write.bind(process.stdout);
let stn: StnSimulator;
let handler: Handler;
let definition: OperationDefinition;

beforeAll(async () => {
  // Read when Powertools' metrics are created, at the handler's import below.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  stn = await startStn({ seed: false, requestsPerSecond: 1000 });
  ({ handler, definition } = await loadOperation(inject('dynamoEndpoint'), 'cancel-activation', 'cancelActivation', {
    UPSTREAM_TIMEOUT_MS: '1000',
  }));
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
});
afterAll(async () => {
  process.stdout.write = write;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  await stn.server.stop();
});

/** The dashboard's and the alarms' custom metrics: namespace, name and dimensions, from the synthesized template. */
const dashboardMetrics = () => {
  const template = Template.fromStack(
    new GatewayStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Metrics', { routes }),
  );
  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as {
    Properties: { DashboardBody: unknown };
  };
  const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  const widgets = (JSON.parse(text) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> }).widgets;
  return widgets
    .flatMap((widget) => widget.properties.metrics ?? [])
    .filter((metric) => metric[0] === 'SimCancelGateway')
    .map((metric) => {
      const pairs = metric.slice(2).filter((part) => typeof part === 'string') as string[];
      const dimensions: Record<string, string> = {};
      for (let index = 0; index + 1 < pairs.length; index += 2)
        dimensions[pairs[index] as string] = pairs[index + 1] as string;
      return { name: String(metric[1]), dimensions };
    });
};

it('writes ProviderCalls and ProviderLatency with the dimensions the dashboard graphs', async () => {
  stn.addActivation(activation('metricsOk0001', 'BUSY'));
  stn.addActivation(activation('metricsLost001', 'BUSY'));
  stn.server.injectFault({ kind: 'apply-then-status', status: 500, method: 'POST', matching: 'metricsLost001' });
  expect(
    (
      await invoke(handler, definition, {
        method: 'POST',
        path: '/v1/stn/activations/metricsOk0001/cancel',
        headers: { 'Idempotency-Key': 'metrics-ok' },
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await invoke(handler, definition, {
        method: 'POST',
        path: '/v1/stn/activations/metricsLost001/cancel',
        headers: { 'Idempotency-Key': 'metrics-lost' },
      })
    ).status,
  ).toBe(502);

  const emitted = written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf)
    .flatMap((emf) =>
      emf._aws.CloudWatchMetrics.flatMap((directive) =>
        directive.Metrics.map((metric) => ({
          name: metric.Name,
          dimensions: Object.fromEntries((directive.Dimensions[0] ?? []).map((name) => [name, String(emf[name])])),
        })),
      ),
    );
  const wanted = dashboardMetrics().filter(
    (metric) =>
      metric.dimensions.operation === 'cancel-activation' &&
      ['succeeded', 'unknown', undefined].includes(metric.dimensions.outcome),
  );
  expect(wanted.map((metric) => metric.name)).toEqual(expect.arrayContaining(['ProviderCalls', 'ProviderLatency']));
  for (const metric of wanted) {
    const match = emitted.find(
      (candidate) =>
        candidate.name === metric.name &&
        JSON.stringify(Object.entries(candidate.dimensions).sort()) ===
          JSON.stringify(Object.entries(metric.dimensions).sort()),
    );
    expect(
      match,
      `${metric.name} ${JSON.stringify(metric.dimensions)}; emitted: ${JSON.stringify(emitted.filter((candidate) => candidate.name === metric.name))}`,
    ).toBeDefined();
  }
});
