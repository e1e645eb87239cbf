/** The batch routes in the OpenAPI document (docs/batches.md): their paths, answers and the Batch schema. */
import { ITEM_STATUSES, MAX_ITEMS } from './model.js';

type JsonObject = Record<string, unknown>;
type ProblemResponse = (description: string, kinds: string[]) => JsonObject;

const batchIdParameter = {
  name: 'batchId',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^b_[0-9a-f]{32}$' },
};
const batch = { 'application/json': { schema: { $ref: '#/components/schemas/Batch' } } };

export const batchSchema: JsonObject = {
  type: 'object',
  required: ['batchId', 'operation', 'status', 'total', 'counts', 'createdAt'],
  properties: {
    batchId: { type: 'string' },
    operation: { type: 'string' },
    status: {
      type: 'string',
      enum: ['previewing', 'previewed', 'running', 'completed', 'cancelled'],
      description:
        '`running` from the confirm while any item is `pending` or `in_progress`; `completed` once none is (then `Batch Completed` is published, once).',
    },
    total: { type: 'integer' },
    counts: {
      type: 'object',
      description:
        "Items by status; they add up to `total`. `in_progress`: the provider completes it later (sTN `CANCELLING`); its operation's follow-up moves it to `succeeded` or `failed` (a `stalled` operation: `failed` with problem `stalled`, 504).",
      properties: Object.fromEntries(ITEM_STATUSES.map((status) => [status, { type: 'integer' }])),
    },
    preview: {
      type: 'object',
      description: "Once previewed: what the items' dry runs said.",
      properties: {
        summary: {
          type: 'object',
          properties: Object.fromEntries(
            [
              'wouldSucceed',
              'wouldBeRejected',
              'wouldBeRefusedByGuard',
              'wouldBeRefunded',
              'invalid',
              'unreadable',
            ].map((name) => [name, { type: 'integer' }]),
          ),
        },
      },
    },
    createdAt: { type: 'string', format: 'date-time' },
    previewedAt: { type: ['string', 'null'], format: 'date-time' },
    confirmedAt: { type: ['string', 'null'], format: 'date-time' },
    completedAt: { type: ['string', 'null'], format: 'date-time' },
    estimatedSecondsLeft: {
      type: ['integer', 'null'],
      description:
        'While running, from the pace so far; null before the run, after it, and once only `in_progress` items are left (the provider completes them in its own time).',
    },
  },
};

export const batchPaths = (problem: ProblemResponse): Record<string, JsonObject> => ({
  '/v1/batches': {
    post: {
      operationId: 'create-batch',
      summary: 'Create a batch: one operation over many items, each validated at once and previewed',
      tags: ['Batches'],
      description: `Body \`{"operation": "<name>", "items": [<input>, ...]}\`, or a CSV (\`Content-Type: text/csv\`, a header row of the operation's input fields) with \`?operation=<name>\`. Up to ${MAX_ITEMS} items. Invalid items are marked \`invalid\` with their field errors and never sent; a batch with no valid item is a 400. The same Idempotency-Key from the same caller answers the same batch. The preview runs every valid item's dry run, paced to the provider's limit; confirm when \`status\` is \`previewed\`.`,
      parameters: [
        { $ref: '#/components/parameters/IdempotencyKey' },
        {
          name: 'operation',
          in: 'query',
          required: false,
          schema: { type: 'string' },
          description: 'With a CSV body.',
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['operation', 'items'],
              properties: { operation: { type: 'string' }, items: { type: 'array', items: { type: 'object' } } },
            },
          },
          'text/csv': { schema: { type: 'string' } },
        },
      },
      responses: {
        '202': { description: 'Created (or the same batch again): previewing.', content: batch },
        '400': problem('No valid item, too many, or a wrong field (`errors` names each).', [
          'invalid-request',
          'idempotency-key-missing',
        ]),
        '415': problem('Not JSON or CSV.', ['unsupported-media-type']),
        '422': problem('The key already created a batch with other items.', ['idempotency-key-reused']),
      },
    },
  },
  '/v1/batches/{batchId}': {
    get: {
      operationId: 'get-batch',
      summary: "A batch's status, counts by item status, preview summary and time left",
      tags: ['Batches'],
      parameters: [batchIdParameter],
      responses: {
        '200': { description: 'The batch.', content: batch },
        '404': problem('No such batch.', ['not-found']),
      },
    },
  },
  '/v1/batches/{batchId}/confirm': {
    post: {
      operationId: 'confirm-batch',
      summary: 'Run a previewed batch: each item once, as an ordinary operation keyed by the batch and the item',
      tags: ['Batches'],
      parameters: [batchIdParameter],
      responses: {
        '202': { description: 'Running (confirming again sends nothing twice).', content: batch },
        '404': problem('No such batch.', ['not-found']),
        '409': problem('Not previewed yet, or over.', ['batch-not-ready']),
      },
    },
  },
  '/v1/batches/{batchId}/cancel': {
    post: {
      operationId: 'cancel-batch',
      summary: 'Stop the items that have not started (they end `cancelled`)',
      description:
        'Items already sent finish as they would have; `in_progress` ones still settle when their follow-ups find them final. A cancelled batch publishes no `Batch Completed`.',
      tags: ['Batches'],
      parameters: [batchIdParameter],
      responses: {
        '200': { description: 'Cancelled.', content: batch },
        '404': problem('No such batch.', ['not-found']),
        '409': problem('Already completed.', ['batch-not-ready']),
      },
    },
  },
  '/v1/batches/{batchId}/items': {
    get: {
      operationId: 'batch-items',
      summary: "A batch's items with their status, operation id and problem; as CSV with Accept: text/csv",
      tags: ['Batches'],
      parameters: [
        batchIdParameter,
        { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: [...ITEM_STATUSES] } },
        { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } },
      ],
      responses: {
        '200': {
          description: 'A page of items in order, or the whole report as CSV.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['items', 'nextCursor'],
                properties: {
                  items: { type: 'array', items: { type: 'object' } },
                  nextCursor: { type: ['string', 'null'] },
                },
              },
            },
            'text/csv': { schema: { type: 'string' } },
          },
        },
        '404': problem('No such batch.', ['not-found']),
      },
    },
  },
});
