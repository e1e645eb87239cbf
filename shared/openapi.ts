/**
 * The OpenAPI 3.1 document of the gateway, generated from the operation definitions (their zod schemas become JSON
 * Schema with `z.toJSONSchema`) and the problem catalogue: no second, hand-written copy of the contract.
 * `npm run openapi` writes it to docs/openapi.json; the local runner serves it fresh; the deployed API serves the
 * generated file.
 */
import { z } from 'zod';
import { PROBLEMS, PROBLEM_TYPE_BASE, type ProblemKind } from './errors.js';
import { REFUND_COLUMNS } from './history/records.js';
import {
  CSV_MAX_ROWS,
  OPERATION_STATUSES,
  PAGE_LIMIT,
  PARAMETER_DESCRIPTIONS,
  TIMELINE_MAX_OPERATIONS,
  activationIdField,
  cursorField,
  timelinePathSchema,
} from './history/schemas.js';
import { routes } from './http/routes.js';
import { batchPaths, batchSchema } from './batches/openapi.js';
import type { OperationContract } from './operations/definition.js';

type JsonObject = Record<string, unknown>;

const schemaOf = (schema: z.ZodType): JsonObject => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  return rest;
};

/** What each problem type means for a client: documented beside its URI. */
const PROBLEM_DESCRIPTIONS: Record<ProblemKind, string> = {
  'invalid-request': 'A field is wrong; `errors` names each one (`path`, `message`). Nothing was sent to the provider.',
  'idempotency-key-missing': 'Requests that change provider state need an `Idempotency-Key` header (or `dryRun=true`).',
  'not-found': 'No such route, or no such operation for this caller.',
  'idempotency-key-in-flight':
    'The first request with this key is still running, or an earlier attempt may still be in flight at the provider. Retry after `Retry-After`.',
  'target-busy':
    'Another key is working on the same eSIM (whatever the bundle) or activation, or left an attempt there whose outcome is not known yet. Nothing was sent. ' +
    'Retry after `Retry-After` (with the same key); once the provider can no longer be applying that attempt, the gateway reconciles it and proceeds.',
  'batch-not-ready':
    'The batch cannot do that now: confirm waits for `previewed`; a completed or cancelled batch cannot be confirmed or cancelled. `status` says where it is.',
  'reconciliation-needed':
    "An earlier attempt's answer was lost and the provider's state neither proves nor rules out its effect. Nothing was sent again; `observed` shows why. Needs a person.",
  'payload-too-large': 'The body is over 16 KiB.',
  'unsupported-media-type': 'The body is not `application/json`.',
  'idempotency-key-reused': 'This key was used for a different request; use a new key.',
  'upstream-rejected':
    'The provider definitively refused; `detail` is its message, `upstream` its status and body. Saved and replayed.',
  'esim-return-risk':
    'The eSIM Go revoke would leave an uninstalled eSIM with no bundle (eSIM Go returns process). Nothing was revoked; `plan` says why. Retry with `allowEsimReturn=true` and a new key to accept.',
  'internal-error': 'A bug in the gateway. Logged; nothing about it is revealed.',
  'upstream-failed':
    'The provider answered 5xx or something unreadable; the outcome is unknown. Retrying with the same key is safe: the gateway reconciles first.',
  'upstream-unreachable':
    'The provider could not be reached, or a read before the write failed. Nothing was changed; retry.',
  'upstream-auth-failed':
    "The provider refused the gateway's credentials. Nothing was done; fix the secret, then retry.",
  'upstream-throttled': 'The provider throttled the gateway; nothing was done. Retry after `Retry-After`.',
  'dependency-unavailable':
    'DynamoDB could not be used. Fail closed: the provider was not called (or the result could not be recorded). Retry with the same key.',
  'outcome-pending':
    'The provider may have applied the request, but the gateway could not record the answer. Retry with the same key after `Retry-After`: the gateway reconciles ' +
    'with the provider before sending anything again. Never retry with a new key.',
  'time-budget-exhausted':
    'Too little of the invocation was left to call the provider and save its answer. Nothing was sent; retry with the same key.',
  'upstream-timeout':
    'The provider did not answer in time; the outcome is unknown. Retrying with the same key is safe: the gateway reconciles first.',
};

const problemRef = { $ref: '#/components/schemas/ProblemDetails' };
const problemResponse = (description: string, kinds: ProblemKind[]) => ({
  description: `${description} Problem types: ${kinds.map((kind) => `\`${kind}\``).join(', ')}.`,
  headers: kinds.some((kind) =>
    [
      'idempotency-key-in-flight',
      'target-busy',
      'upstream-throttled',
      'dependency-unavailable',
      'outcome-pending',
      'time-budget-exhausted',
    ].includes(kind),
  )
    ? { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } }
    : undefined,
  content: {
    'application/problem+json': {
      schema: problemRef,
      example: {
        type: `${PROBLEM_TYPE_BASE}${kinds[0]}`,
        title: PROBLEMS[kinds[0] as ProblemKind].title,
        status: PROBLEMS[kinds[0] as ProblemKind].status,
        detail: PROBLEM_DESCRIPTIONS[kinds[0] as ProblemKind],
      },
    },
  },
});

const operationPath = (definition: OperationContract) => {
  const parameters: JsonObject[] = [];
  const fields = (location: 'path' | 'query') =>
    Object.entries(definition.request[location].shape as Record<string, z.ZodType>);
  for (const [name, schema] of fields('path'))
    parameters.push({ name, in: 'path', required: true, schema: schemaOf(schema), example: definition.example[name] });
  for (const [name, schema] of fields('query'))
    parameters.push({ name, in: 'query', required: false, schema: schemaOf(schema) });
  parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  const body = definition.request.body;
  const exampleBody =
    body === undefined
      ? undefined
      : Object.fromEntries(
          Object.keys(body.shape)
            .filter((name) => definition.example[name] !== undefined)
            .map((name) => [name, definition.example[name]]),
        );
  const target = definition.target(definition.example);
  return {
    [definition.route.method.toLowerCase()]: {
      operationId: definition.name,
      summary: definition.summary,
      tags: ['Operations'],
      description: `${definition.summary}. Provider: ${definition.provider}. Also triggered by \`${definition.eventName} Requested\` events (see README, Events). \`dryRun=true\` previews it without changing anything.`,
      parameters,
      requestBody:
        body === undefined
          ? undefined
          : { required: false, content: { 'application/json': { schema: schemaOf(body), example: exampleBody } } },
      responses: {
        '200': {
          description:
            'Done (`succeeded`), accepted and completing later (`in_progress`), or previewed (`validated`). Replays carry `Idempotent-Replayed: true`.',
          headers: {
            'Idempotent-Replayed': {
              description: 'Present and `true` when this is the saved answer of an earlier request with the same key.',
              schema: { type: 'string', enum: ['true'] },
            },
          },
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/OperationResult' },
              examples: {
                succeeded: {
                  value: {
                    operationId: 'op_3f6c2d1e9b8a4c7d8e9f0a1b2c3d4e5f',
                    operation: definition.name,
                    target,
                    status: 'succeeded',
                    upstream: { status: 200, body: {} },
                  },
                },
                validated: {
                  value: {
                    operationId: 'op_3f6c2d1e9b8a4c7d8e9f0a1b2c3d4e5f',
                    operation: definition.name,
                    target,
                    status: 'validated',
                    preview: {},
                    upstream: null,
                  },
                },
              },
            },
          },
        },
        '400': problemResponse('Invalid input or a missing Idempotency-Key.', [
          'invalid-request',
          'idempotency-key-missing',
        ]),
        '409': problemResponse('The key is in flight, the target is busy, or an earlier attempt needs a person.', [
          'idempotency-key-in-flight',
          'target-busy',
          'reconciliation-needed',
        ]),
        '413': problemResponse('Body too large.', ['payload-too-large']),
        '415': problemResponse('Body is not JSON.', ['unsupported-media-type']),
        '422': problemResponse('Key reused with another payload, the provider refused, or a safety guard refused.', [
          'upstream-rejected',
          'idempotency-key-reused',
          'esim-return-risk',
        ]),
        '500': problemResponse('A bug.', ['internal-error']),
        '502': problemResponse('The provider failed, could not be reached, or refused our credentials.', [
          'upstream-failed',
          'upstream-unreachable',
          'upstream-auth-failed',
        ]),
        '503': problemResponse(
          'The provider throttled us, DynamoDB is unavailable, the answer could not be recorded, or the invocation had too little time left.',
          ['upstream-throttled', 'dependency-unavailable', 'outcome-pending', 'time-budget-exhausted'],
        ),
        '504': problemResponse('The provider did not answer in time.', ['upstream-timeout']),
      },
    },
  };
};

/** The history routes (shared/history/, docs/history.md): their query parameters come from the handlers' schemas. */
const historyParameter = (name: keyof typeof PARAMETER_DESCRIPTIONS, schema: JsonObject): JsonObject => ({
  name,
  in: 'query',
  required: false,
  description: PARAMETER_DESCRIPTIONS[name],
  schema,
});
const dateTimeSchema = { type: 'string', format: 'date-time' };
const limitParameter = historyParameter('limit', {
  type: 'integer',
  minimum: PAGE_LIMIT.min,
  maximum: PAGE_LIMIT.max,
  default: PAGE_LIMIT.default,
});
const readerProblems = {
  '400': problemResponse('A query parameter is wrong (`errors` names it), or the cursor is not for this query.', [
    'invalid-request',
  ]),
  '500': problemResponse('A bug.', ['internal-error']),
  '503': problemResponse('DynamoDB could not be read; retry.', ['dependency-unavailable']),
};
const page = (item: JsonObject, description: string): JsonObject => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: item, description },
    nextCursor: {
      type: ['string', 'null'],
      description:
        'Pass as `cursor` for the next page; null at the end. A page may be short (even empty) and still have one.',
    },
  },
});
const exampleCsv = `${REFUND_COLUMNS.join(',')}\r\nop_3f6c2d1e9b8a4c7d8e9f0a1b2c3d4e5f,2024-05-01T10:00:00.000Z,revoke-bundle,8943108165015003887,esim_1GB_7D_GB_V2,243,inventory,inventory,false,2024-05-01T10:05:00.000Z\r\n`;

const historyPaths = (): Record<string, JsonObject> => ({
  '/v1/operations': {
    get: {
      operationId: 'list-operations',
      summary: "List the caller's operations, newest first",
      tags: ['Audit trail'],
      description:
        "Only the caller's own operations, newest first by `createdAt`, from an index (never a scan): one eSIM's (`iccid`) or one activation's (`activationId`), or all of them. Each item is the record `GET /v1/operations/{operationId}` answers. See docs/history.md.",
      parameters: [
        historyParameter('iccid', schemaOf(timelinePathSchema.shape.iccid)),
        historyParameter('activationId', schemaOf(activationIdField)),
        historyParameter('status', { type: 'string', enum: [...OPERATION_STATUSES] }),
        historyParameter('since', dateTimeSchema),
        historyParameter('until', dateTimeSchema),
        limitParameter,
        historyParameter('cursor', schemaOf(cursorField)),
      ],
      responses: {
        '200': {
          description: 'A page of operations, newest first.',
          content: {
            'application/json': {
              schema: page({ $ref: '#/components/schemas/OperationRecord' }, 'Operation records, newest first.'),
            },
          },
        },
        ...readerProblems,
      },
    },
  },
  '/v1/esims/{iccid}/timeline': {
    get: {
      operationId: 'esim-timeline',
      summary: "An eSIM's timeline: the caller's operations on it and eSIM Go's history",
      tags: ['Audit trail'],
      description: `The caller's operations on the eSIM (the newest ${TIMELINE_MAX_OPERATIONS}) and their follow-up checks, merged newest first with eSIM Go's own history of the eSIM (\`GET /esims/{iccid}/history\`) when one of those operations is an eSIM Go one. When none is, eSIM Go is not asked (\`sources.esimGo: not-an-esim-go-esim\`); when eSIM Go cannot answer, the gateway's part still comes (\`sources.esimGo: unavailable\`).`,
      parameters: [
        {
          name: 'iccid',
          in: 'path',
          required: true,
          schema: schemaOf(timelinePathSchema.shape.iccid),
          example: '8943108165015003887',
        },
      ],
      responses: {
        '200': {
          description: 'The timeline, newest first.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Timeline' } } },
        },
        ...readerProblems,
      },
    },
  },
  '/v1/reports/refunds': {
    get: {
      operationId: 'refund-report',
      summary: "The caller's eSIM Go refunds, predicted and confirmed",
      tags: ['Audit trail'],
      description: `The caller's eSIM Go revokes (\`revoke-bundle\`, \`revoke-assignment\`) with the refund the plan predicted and the one eSIM Go's history confirmed, newest first. JSON pages like \`GET /v1/operations\`; with \`Accept: text/csv\` one CSV (RFC 4180, header row) of every refund in \`since\`..\`until\`, at most ${CSV_MAX_ROWS} rows (a larger range is refused with 400: narrow it), without \`limit\` or \`cursor\`.`,
      parameters: [
        historyParameter('since', dateTimeSchema),
        historyParameter('until', dateTimeSchema),
        limitParameter,
        historyParameter('cursor', schemaOf(cursorField)),
      ],
      responses: {
        '200': {
          description:
            'A page of refunds (JSON), or every refund of the range with `Accept: text/csv` (ranked at least as high as JSON).',
          content: {
            'application/json': {
              schema: page({ $ref: '#/components/schemas/RefundRow' }, 'Refunds, newest first.'),
            },
            'text/csv': {
              schema: { type: 'string' },
              example: exampleCsv,
            },
          },
        },
        ...readerProblems,
      },
    },
  },
});

const destinationSchema = { type: 'string', enum: ['inventory', 'balance', 'none'] };
const historySchemas = {
  RefundRow: {
    type: 'object',
    required: [...REFUND_COLUMNS],
    additionalProperties: false,
    properties: {
      operationId: { type: 'string', pattern: '^op_[0-9a-f]{32}$' },
      createdAt: { type: 'string', format: 'date-time' },
      operation: { type: 'string', enum: ['revoke-bundle', 'revoke-assignment'] },
      iccid: { type: ['string', 'null'] },
      bundle: { type: 'string' },
      assignmentId: { type: ['string', 'null'] },
      predicted: destinationSchema,
      confirmed: { type: ['string', 'null'], enum: ['inventory', 'balance', 'none', null] },
      mismatch: {
        type: ['boolean', 'null'],
        description: "true when `confirmed` differs from `predicted`; null until eSIM Go's history confirmed it.",
      },
      checkedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  Timeline: {
    type: 'object',
    required: ['iccid', 'items', 'sources', 'truncated'],
    properties: {
      iccid: { type: 'string' },
      items: { type: 'array', items: { $ref: '#/components/schemas/TimelineItem' }, description: 'Newest first.' },
      sources: {
        type: 'object',
        required: ['gateway', 'esimGo'],
        properties: {
          gateway: { type: 'boolean', enum: [true] },
          esimGo: {
            type: 'string',
            enum: ['included', 'not-an-esim-go-esim', 'unavailable'],
            description:
              "`included`: eSIM Go's history is in `items`; `not-an-esim-go-esim`: none of the caller's operations on it is an eSIM Go one, so eSIM Go was not asked; `unavailable`: eSIM Go could not be read (`esimGoDetail` says why).",
          },
          esimGoDetail: { type: 'string' },
        },
      },
      truncated: {
        type: 'boolean',
        description: `true when the caller has more than ${TIMELINE_MAX_OPERATIONS} operations on the eSIM: only the newest are in.`,
      },
    },
  },
  TimelineItem: {
    oneOf: [
      {
        type: 'object',
        description: 'An operation of the caller on the eSIM, at its creation.',
        required: ['at', 'source', 'kind', 'operationId', 'operation', 'provider', 'target', 'status'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          source: { type: 'string', enum: ['gateway'] },
          kind: { type: 'string', enum: ['operation'] },
          operationId: { type: 'string' },
          operation: { type: 'string' },
          provider: { type: 'string' },
          target: { type: 'string' },
          status: { type: 'string' },
          httpStatus: { type: 'integer' },
          attempts: { type: 'integer' },
          refund: { type: 'object', description: 'As `refund` of the operation record.' },
        },
      },
      {
        type: 'object',
        description: 'A follow-up check of an operation (its timeline entry).',
        required: ['at', 'source', 'kind', 'operationId', 'operation', 'check', 'status', 'observed'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          source: { type: 'string', enum: ['gateway'] },
          kind: { type: 'string', enum: ['follow-up'] },
          operationId: { type: 'string' },
          operation: { type: 'string' },
          check: { type: 'string' },
          status: { type: 'string' },
          observed: { type: 'object' },
        },
      },
      {
        type: 'object',
        description: "An entry of eSIM Go's history of the eSIM.",
        required: ['at', 'source', 'name', 'bundleName'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          source: { type: 'string', enum: ['esim-go'] },
          name: { type: 'string', description: "eSIM Go's action: `Bundle Applied`, `Bundle Revoked`, ..." },
          bundleName: { type: ['string', 'null'] },
        },
      },
    ],
  },
};

const problemTypesTable = (Object.keys(PROBLEMS) as ProblemKind[])
  .map(
    (kind) =>
      `| \`${PROBLEM_TYPE_BASE}${kind}\` | ${PROBLEMS[kind].status} | ${PROBLEMS[kind].title}. ${PROBLEM_DESCRIPTIONS[kind]} |`,
  )
  .join('\n');

export const buildOpenApiDocument = (): JsonObject => JSON.parse(JSON.stringify(document())) as JsonObject;

const document = (): JsonObject => {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    if (route.operation !== undefined) paths[route.path] = { ...paths[route.path], ...operationPath(route.operation) };
  }
  paths['/v1/operations/{operationId}'] = {
    get: {
      operationId: 'get-operation',
      summary: "Read an operation's audit record",
      tags: ['Audit trail'],
      description:
        'Only the caller that asked for the operation can read it; anyone else gets 404, as for an unknown id.',
      parameters: [
        { name: 'operationId', in: 'path', required: true, schema: { type: 'string', pattern: '^op_[0-9a-f]{32}$' } },
      ],
      responses: {
        '200': {
          description: 'The audit record.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/OperationRecord' } } },
        },
        '400': problemResponse('Malformed operation id.', ['invalid-request']),
        '404': problemResponse('No such operation for this caller.', ['not-found']),
      },
    },
  };
  Object.assign(
    paths,
    historyPaths(),
    batchPaths(problemResponse as (description: string, kinds: string[]) => JsonObject),
  );
  paths['/v1/openapi.json'] = {
    get: {
      operationId: 'get-openapi',
      summary: 'This document',
      tags: ['Reference'],
      responses: {
        '200': {
          description: 'The OpenAPI 3.1 document.',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'sim-cancel-gateway',
      version: '1.0.0',
      description:
        'One API for cancelling things at eSIM connectivity providers safely: every cancellation at most once per `Idempotency-Key`, previewable with `dryRun=true`, audited, and driven over HTTP or events.',
    },
    servers: [
      {
        url: '/',
        description:
          'The API stage (https://<api-id>.execute-api.<region>.amazonaws.com/v1, or http://127.0.0.1:3000 locally)',
      },
    ],
    security: [{ sigv4: [] }],
    tags: [
      {
        name: 'Operations',
        description:
          'Cancellations at the providers. Each answers 200 with `operationId`, `operation`, `status` and `upstream`, or a problem.',
      },
      {
        name: 'Audit trail',
        description:
          "What happened to an operation, attempt by attempt; the caller's history, an eSIM's timeline, the refund ledger.",
      },
      { name: 'Reference', description: 'This document.' },
      {
        name: 'Problem types',
        description: `Every error is \`application/problem+json\` (RFC 9457).\n\n| type | status | meaning |\n|---|---|---|\n${problemTypesTable}`,
      },
    ],
    'x-problem-types': (Object.keys(PROBLEMS) as ProblemKind[]).map((kind) => ({
      type: `${PROBLEM_TYPE_BASE}${kind}`,
      status: PROBLEMS[kind].status,
      title: PROBLEMS[kind].title,
      description: PROBLEM_DESCRIPTIONS[kind],
    })),
    paths,
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            "AWS Signature Version 4 for `execute-api` (IAM authorization). The caller's IAM principal scopes its idempotency keys and operations.",
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Required on every request that can change provider state (not on dry runs). 1-255 printable ASCII; `"abc"` is the same key as `abc`. Scoped by caller and operation, kept `IDEMPOTENCY_TTL_SECONDS` (24 h). Same key + same payload: the saved answer again; different payload: 422; while running: 409.',
          schema: { type: 'string', minLength: 1, maxLength: 257, pattern: '^[\\x20-\\x7e]+$' },
        },
      },
      headers: {
        RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'string', pattern: '^\\d+$' } },
      },
      schemas: {
        ...historySchemas,
        ProblemDetails: {
          type: 'object',
          required: ['type', 'title', 'status', 'detail'],
          properties: {
            type: {
              type: 'string',
              format: 'uri',
              enum: (Object.keys(PROBLEMS) as ProblemKind[]).map((kind) => `${PROBLEM_TYPE_BASE}${kind}`),
            },
            title: { type: 'string' },
            status: { type: 'integer', minimum: 400, maximum: 599 },
            detail: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['path', 'message'],
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
            operationId: { type: 'string' },
            operation: { type: 'string' },
            target: { type: 'string' },
            upstream: { $ref: '#/components/schemas/UpstreamAnswer' },
          },
        },
        UpstreamAnswer: {
          type: ['object', 'null'],
          required: ['status', 'body'],
          properties: { status: { type: 'integer' }, body: {} },
        },
        OperationResult: {
          type: 'object',
          required: ['operationId', 'operation', 'target', 'status', 'upstream'],
          properties: {
            operationId: { type: 'string', pattern: '^op_[0-9a-f]{32}$' },
            operation: {
              type: 'string',
              enum: routes.flatMap((route) => (route.operation === undefined ? [] : [route.name])),
            },
            target: { type: 'string' },
            status: { type: 'string', enum: ['succeeded', 'in_progress', 'validated'] },
            upstream: { $ref: '#/components/schemas/UpstreamAnswer' },
            reconciled: {
              type: 'boolean',
              description: 'The answer was established by reconciling a lost earlier attempt with the provider.',
            },
            verified: {
              type: 'boolean',
              description: 'false when the provider offers no read to confirm a reconciled success (Monogoto).',
            },
            preview: {
              type: 'object',
              description: 'Dry runs: what a real call would do, as far as the provider reads tell.',
            },
            plan: {
              type: 'object',
              description: 'eSIM Go: which assignment was revoked, the refund prediction, bundles left.',
            },
          },
        },
        Batch: batchSchema,
        OperationRecord: {
          type: 'object',
          required: [
            'operationId',
            'operation',
            'provider',
            'target',
            'caller',
            'source',
            'status',
            'attempts',
            'createdAt',
            'updatedAt',
          ],
          properties: {
            operationId: { type: 'string' },
            operation: { type: 'string' },
            provider: { type: 'string' },
            target: { type: 'string' },
            caller: { type: 'string' },
            source: { type: 'string', enum: ['http', 'sqs', 'eventbridge', 'batch'] },
            batch: {
              type: 'object',
              description: 'The batch item this operation ran (source `batch`).',
              required: ['batchId', 'index'],
              properties: { batchId: { type: 'string' }, index: { type: 'integer' } },
            },
            idempotencyKeyHash: { type: 'string' },
            input: { type: 'object' },
            status: {
              type: 'string',
              enum: ['succeeded', 'in_progress', 'rejected', 'failed', 'unknown', 'stalled'],
              description: '`stalled`: a follow-up found it still not final at FOLLOW_UP_DEADLINE_SECONDS.',
            },
            httpStatus: { type: 'integer' },
            timeline: {
              type: 'array',
              description: 'What happened after the answer: each follow-up check and what it observed, oldest first.',
              items: {
                type: 'object',
                required: ['at', 'source', 'status', 'observed'],
                properties: {
                  at: { type: 'string', format: 'date-time' },
                  source: { type: 'string', enum: ['follow-up:settle', 'follow-up:refund', 'follow-up:esim-return'] },
                  status: { type: 'string' },
                  observed: { type: 'object' },
                },
              },
            },
            followUps: {
              type: 'object',
              description:
                'Per follow-up (settle, refund, esim-return): checks made, whether it is over, the next one.',
              additionalProperties: {
                type: 'object',
                properties: {
                  checks: { type: 'integer' },
                  done: { type: 'boolean' },
                  nextDueAt: { type: ['string', 'null'], format: 'date-time' },
                  deadlineAt: { type: 'string', format: 'date-time' },
                },
              },
            },
            refund: {
              type: 'object',
              description: "eSIM Go revokes: the predicted refund and the one eSIM Go's history confirms.",
              properties: {
                predicted: { type: 'string', enum: ['inventory', 'balance', 'none'] },
                confirmed: { type: ['string', 'null'], enum: ['inventory', 'balance', 'none', null] },
                checkedAt: { type: ['string', 'null'], format: 'date-time' },
                bundle: { type: 'string' },
                assignmentId: { type: ['string', 'null'] },
                revokedAt: { type: 'string', format: 'date-time' },
              },
            },
            esimReturn: {
              type: 'string',
              enum: ['in_returns', 'back_in_account', 'gone'],
              description: "A revoke that sent the eSIM into eSIM Go's returns process: where it stands.",
            },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            retainedUntil: { type: 'string', format: 'date-time' },
            attempts: {
              type: 'array',
              items: {
                type: 'object',
                required: ['attempt', 'at', 'status'],
                properties: {
                  attempt: { type: 'integer' },
                  at: { type: 'string' },
                  status: { type: 'string' },
                  httpStatus: { type: 'integer' },
                  upstreamStatus: { type: ['integer', 'null'] },
                  message: { type: ['string', 'null'] },
                  reconciled: { type: 'boolean' },
                },
              },
            },
          },
        },
      },
    },
  };
};
