/**
 * The history routes in the synthesized stack: the operations table's two indexes, each history function's exact
 * grants (Query on its index ARNs, the eSIM Go secret for the timeline), and no Scan or index wildcard in any role.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayStack } from '../../infra/stack.js';
import { esimTimelineRoute, listOperationsRoute, refundReportRoute, routes } from '../../shared/http/routes.js';
import { monogoto } from '../../shared/providers/monogoto/provider.js';
import { stn } from '../../shared/providers/stn/provider.js';
import { OPERATIONS_INDEXES } from '../../shared/tables.js';
import { type Template as Json, functionId, roleStatements } from '../../testkit/role-policy.js';

let template: Json;
const synth = (props: Partial<ConstructorParameters<typeof GatewayStack>[2]> = {}) =>
  Template.fromStack(
    new GatewayStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'History', { routes, ...props }),
  ).toJSON() as Json;
const tableId = (json: Json, prefix: string) =>
  Object.keys(json.Resources).find(
    (id) => id.startsWith(prefix) && json.Resources[id]?.Type === 'AWS::DynamoDB::Table',
  );
/** `action on resource` for every Allow of the function's role, but X-Ray's. */
const grants = (json: Json, summary: string) =>
  roleStatements(json, functionId(json, summary))
    .filter((statement) => statement.effect === 'Allow')
    .flatMap((statement) =>
      statement.actions.flatMap((action) => statement.resources.map((resource) => `${action} on ${resource}`)),
    )
    .filter((grant) => !grant.startsWith('xray:'))
    .sort();
const environment = (json: Json, summary: string) =>
  (json.Resources[functionId(json, summary)]?.Properties?.Environment as { Variables: Record<string, unknown> })
    .Variables;

beforeAll(() => {
  template = synth();
});

describe('the history routes in the stack', () => {
  it('gives the operations table its two indexes (string keys, every attribute projected), and the idempotency table none', () => {
    const operations = template.Resources[tableId(template, 'OperationsTable') as string]?.Properties;
    expect(operations?.GlobalSecondaryIndexes).toEqual(
      Object.values(OPERATIONS_INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    );
    expect(operations?.AttributeDefinitions).toEqual(
      ['operationId', 'caller', 'createdAt', 'callerTarget'].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
    );
    expect(operations?.KeySchema).toEqual([{ AttributeName: 'operationId', KeyType: 'HASH' }]);
    const idempotency = template.Resources[tableId(template, 'IdempotencyTable') as string]?.Properties;
    expect(idempotency?.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('grants each history function Query on its own indexes, and the timeline the eSIM Go secret, nothing more', () => {
    const table = `arn:${tableId(template, 'OperationsTable')}`;
    const secret = Object.keys(template.Resources).find((id) => id.startsWith('EsimGoCredentials'));
    expect(grants(template, listOperationsRoute.summary)).toEqual([
      `dynamodb:Query on ${table}/index/byCaller`,
      `dynamodb:Query on ${table}/index/byCallerTarget`,
    ]);
    expect(grants(template, refundReportRoute.summary)).toEqual([`dynamodb:Query on ${table}/index/byCaller`]);
    // UpdateItem on the idempotency table: eSIM Go's rate-limit windows, which the timeline shares with the operations,
    // and only those items (their keys begin `rate#`), never Powertools' records or the target leases.
    expect(grants(template, esimTimelineRoute.summary)).toEqual([
      `dynamodb:Query on ${table}/index/byCallerTarget`,
      `dynamodb:UpdateItem on arn:${tableId(template, 'IdempotencyTable')}`,
      `secretsmanager:GetSecretValue on arn:${secret}`,
    ]);
    const rateWindows = roleStatements(template, functionId(template, esimTimelineRoute.summary)).filter((statement) =>
      statement.actions.includes('dynamodb:UpdateItem'),
    );
    expect(rateWindows.map((statement) => statement.leadingKeys)).toEqual([['rate#*']]);
    expect(environment(template, esimTimelineRoute.summary)).toMatchObject({
      ESIM_GO_SECRET_ARN: { Ref: secret },
      ESIM_GO_REQUESTS_PER_SECOND: '10',
      RATE_LIMIT_SCOPE: 'fleet',
      UPSTREAM_TIMEOUT_MS: '8000',
    });
  });

  it('lets no function Scan, and none reach every index of a table (`/index/*`)', () => {
    const functions = Object.entries(template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::Lambda::Function',
    );
    expect(functions.length).toBe(routes.length);
    for (const [id] of functions) {
      const statements = roleStatements(template, id);
      expect(
        statements.flatMap((statement) => statement.actions).filter((action) => /scan|\*/i.test(action)),
        id,
      ).toEqual([]);
      expect(
        statements.flatMap((statement) => statement.resources).filter((resource) => resource.includes('/index/*')),
        id,
      ).toEqual([]);
    }
  });

  it('requires the ICCID on the timeline method and no parameter on the others', () => {
    const methods = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::ApiGateway::Method');
    const parametersOf = (name: string) =>
      methods.find((method) => method.Properties?.OperationName === name)?.Properties?.RequestParameters ?? {};
    expect(parametersOf('esim-timeline')).toEqual({ 'method.request.path.iccid': true });
    expect(parametersOf('list-operations')).toEqual({});
    expect(parametersOf('refund-report')).toEqual({});
  });

  it('deploys the timeline without eSIM Go: no eSIM Go secret to read, its part then unavailable', () => {
    // As infra/app.ts deploys `-c providers=monogoto,stn`: the routes that are not operations, and those providers' own.
    const withoutEsimGo = synth({
      providers: [monogoto, stn],
      routes: routes.filter((route) => route.operation === undefined || route.operation.provider !== 'esim-go'),
    });
    const table = `arn:${tableId(withoutEsimGo, 'OperationsTable')}`;
    expect(grants(withoutEsimGo, esimTimelineRoute.summary)).toEqual([
      `dynamodb:Query on ${table}/index/byCallerTarget`,
    ]);
    expect(environment(withoutEsimGo, esimTimelineRoute.summary)).not.toHaveProperty('ESIM_GO_SECRET_ARN');
  });
});
