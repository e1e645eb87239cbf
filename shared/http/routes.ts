/**
 * Every HTTP route of the gateway: one per operation definition, plus the audit trail's read routes. The CDK stack
 * and the local runner both build their routing from this list; each entry's `name` is its function folder.
 */
import { contracts } from '../operations/contracts.js';
import type { OperationContract, ProviderName } from '../operations/definition.js';

/**
 * What a route that is not an operation may do with the operations table, each granted exactly (infra/stack.ts):
 * `read-operations` GetItem by operation id; `query-by-caller` and `query-by-caller-target` Query on that index alone.
 */
export type ReaderGrant =
  | 'read-operations'
  | 'query-by-caller'
  | 'query-by-caller-target'
  /** GetItem of a batch (its meta item) on the batches table. */
  | 'read-batch'
  /** Query of a batch's items. */
  | 'list-batch-items'
  /** Writing a new batch's items (BatchWriteItem). */
  | 'create-batch-items'
  /** Creating and moving a batch's meta item (UpdateItem). */
  | 'move-batch'
  /** SendMessage to every operation's queue: starts batch items (and makes the operations accept them from it). */
  | 'start-batch-items';

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
  grants?: readonly ReaderGrant[];
  /**
   * For routes that are not operations: the providers whose read API they call. Each gets that provider's secret
   * (GetSecretValue), base URL and settings, and one request per second of its rate per container.
   */
  providerReads?: readonly ProviderName[];
  /**
   * For routes that are not operations: the function's memory in MB, and with it its share of a CPU (512 by default).
   * The batch starters validate, write and send up to 10,000 items inside the 28 s timeout.
   */
  memoryMb?: number;
}

export const getOperationRoute: RouteDefinition = {
  name: 'get-operation',
  method: 'GET',
  path: '/v1/operations/{operationId}',
  pathParameters: ['operationId'],
  grants: ['read-operations'],
  summary: "Read an operation's audit record (its owner only)",
};

export const listOperationsRoute: RouteDefinition = {
  name: 'list-operations',
  method: 'GET',
  path: '/v1/operations',
  grants: ['query-by-caller', 'query-by-caller-target'],
  summary: "List the caller's operations, newest first (by eSIM or activation, status and time)",
};

export const esimTimelineRoute: RouteDefinition = {
  name: 'esim-timeline',
  method: 'GET',
  path: '/v1/esims/{iccid}/timeline',
  pathParameters: ['iccid'],
  grants: ['query-by-caller-target'],
  providerReads: ['esim-go'],
  summary: "An eSIM's timeline: the caller's operations on it, merged with eSIM Go's history",
};

export const refundReportRoute: RouteDefinition = {
  name: 'refund-report',
  method: 'GET',
  path: '/v1/reports/refunds',
  grants: ['query-by-caller'],
  summary: "The caller's eSIM Go refunds, predicted and confirmed (JSON or CSV)",
};

/** The batch starters' memory: twice the default, for the CPU a 10,000-item create or confirm needs (docs/batches.md). */
const BATCH_STARTER_MEMORY_MB = 1024;

const batchRoute = (
  name: string,
  method: 'GET' | 'POST',
  path: string,
  grants: readonly ReaderGrant[],
  summary: string,
): RouteDefinition => ({
  name,
  method,
  path,
  ...(path.includes('{batchId}') ? { pathParameters: ['batchId'] } : {}),
  grants,
  summary,
  ...(grants.includes('start-batch-items') ? { memoryMb: BATCH_STARTER_MEMORY_MB } : {}),
});

/** Bulk cancellations (shared/batches/): create and preview, read, confirm, cancel, the per-item report. */
export const batchRoutes: readonly RouteDefinition[] = [
  batchRoute(
    'create-batch',
    'POST',
    '/v1/batches',
    ['read-batch', 'list-batch-items', 'create-batch-items', 'move-batch', 'start-batch-items'],
    'Create a batch of one operation over many items (JSON or CSV); every item is validated and previewed',
  ),
  batchRoute('get-batch', 'GET', '/v1/batches/{batchId}', ['read-batch'], "A batch's status, counts and preview"),
  batchRoute(
    'confirm-batch',
    'POST',
    '/v1/batches/{batchId}/confirm',
    ['read-batch', 'list-batch-items', 'move-batch', 'start-batch-items'],
    'Run a previewed batch: each item once, as an ordinary operation',
  ),
  batchRoute(
    'cancel-batch',
    'POST',
    '/v1/batches/{batchId}/cancel',
    ['read-batch', 'move-batch'],
    'Stop the items of a batch that have not started',
  ),
  batchRoute(
    'batch-items',
    'GET',
    '/v1/batches/{batchId}/items',
    ['read-batch', 'list-batch-items'],
    "A batch's items with their status and operation id (JSON pages, or the whole report as CSV)",
  ),
];

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

export const routes: readonly RouteDefinition[] = [
  ...contracts.map(operationRoute),
  getOperationRoute,
  listOperationsRoute,
  esimTimelineRoute,
  refundReportRoute,
  ...batchRoutes,
  openApiRoute,
];
