/**
 * Every HTTP route of the gateway: one per operation definition, plus the audit trail's read route. The CDK stack
 * and the local runner both build their routing from this list; each entry's `name` is its function folder.
 */
import { contracts } from '../operations/contracts.js';
import type { OperationContract } from '../operations/definition.js';

export interface RouteDefinition {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  summary: string;
  /** The operation behind the route, when it is one (it then also has a queue and outcome events). */
  operation?: OperationContract;
  /** For routes that are not operations: their required path parameters (an operation's come from its schemas). */
  pathParameters?: readonly string[];
  /** For routes that are not operations: what they may do with the gateway's tables (an operation's come from its service). */
  grants?: ReadonlyArray<'read-operations'>;
}

export const getOperationRoute: RouteDefinition = {
  name: 'get-operation',
  method: 'GET',
  path: '/v1/operations/{operationId}',
  pathParameters: ['operationId'],
  grants: ['read-operations'],
  summary: "Read an operation's audit record (its owner only)",
};

export const openApiRoute: RouteDefinition = {
  name: 'openapi',
  method: 'GET',
  path: '/v1/openapi.json',
  summary: 'The OpenAPI 3.1 document of this API',
};

/** An operation's route. */
export const operationRoute = (operation: OperationContract): RouteDefinition => ({
  name: operation.name,
  method: operation.route.method,
  path: operation.route.path,
  summary: operation.summary,
  operation,
});

export const routes: readonly RouteDefinition[] = [...contracts.map(operationRoute), getOperationRoute, openApiRoute];
