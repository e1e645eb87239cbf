/**
 * Turns an API Gateway REST proxy event into an operation's validated input, or a ProblemError naming every
 * bad field. Hand-written rather than middy's http-* parsers because the contract fixes statuses those
 * packages choose differently (400 for malformed JSON, 415 for other media types, 413 over 16 KiB) and every
 * error must name the field in one problem body.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from '../zod.js';
import { type Config, config } from '../config.js';
import { type FieldError, ProblemError, fieldErrorsFromIssues, invalidRequest } from '../errors.js';
import type { OperationDefinition } from '../operations/definition.js';

export const MAX_BODY_BYTES = 16 * 1024;

export interface ParsedRequest<Input> {
  input: Input;
  dryRun: boolean;
  /** Present for every request that can change provider state. */
  idempotencyKey: string | undefined;
  /** Who asked: the IAM principal from the request context. Scopes idempotency keys and operations. */
  caller: string;
}

const lowerCaseHeaders = (headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> => {
  // Null prototype: a header called `__proto__` stays a plain entry.
  const result: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
};

const isJsonMediaType = (contentType: string): boolean => {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
};

const readBody = (event: APIGatewayProxyEvent, headers: Record<string, string>, acceptsBody: boolean): unknown => {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new ProblemError(
      'payload-too-large',
      `The body is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES} bytes.`,
    );
  }
  if (bytes.length === 0) return undefined;
  if (!acceptsBody) throw invalidRequest([{ path: 'body', message: 'must be empty: this route takes no body' }]);
  const contentType = headers['content-type'];
  if (contentType === undefined || !isJsonMediaType(contentType)) {
    throw new ProblemError(
      'unsupported-media-type',
      `Send the body as application/json (got ${contentType === undefined ? 'no Content-Type' : JSON.stringify(contentType.slice(0, 100))}).`,
    );
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw invalidRequest([{ path: 'body', message: 'is not valid JSON' }]);
  }
};

const readQuery = (event: APIGatewayProxyEvent, errors: FieldError[]): Record<string, string> => {
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values !== undefined && values.length > 1) errors.push({ path: name, message: 'is given more than once' });
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
    if (value !== undefined) query[name] = value;
  return query;
};

/** Printable ASCII, 1-255 characters; the draft's structured-field form `"abc"` is accepted and unquoted. */
export const parseIdempotencyKey = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const unquoted =
    trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  if (unquoted.length < 1 || unquoted.length > 255 || !/^[\x20-\x7e]+$/.test(unquoted)) {
    throw invalidRequest([{ path: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' }]);
  }
  return unquoted;
};

export type CallerScope = Config['CALLER_SCOPE'];

/** `arn:<partition>:sts::<account>:assumed-role/<RoleName>/<session>`; the role's path is not part of it. */
const ASSUMED_ROLE_ARN = /^arn:([a-z][a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;
/** A role's unique id with the session name, as SQS's SenderId and API Gateway's `identity.caller` give it. */
const ROLE_SESSION_ID = /^(AROA[A-Z0-9]+):.+$/;

/**
 * The identity that scopes idempotency keys and operations. With `principal` (the default) every session of one
 * role is one caller: `arn:aws:sts::<account>:assumed-role/<RoleName>/<session>` becomes
 * `arn:aws:iam::<account>:role/<RoleName>` (any partition) and a role id `AROA...:<session>` loses `:<session>`,
 * so a retry from another ECS task, instance or SSO session finds its key. IAM users and any other form stay as
 * they are. With `session` the full identity is kept (each session its own caller).
 */
export const scopedIdentity = (identity: string, scope: CallerScope = config().CALLER_SCOPE): string => {
  if (scope === 'session') return identity;
  const role = ASSUMED_ROLE_ARN.exec(identity);
  if (role !== null) return `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`;
  return ROLE_SESSION_ID.exec(identity)?.[1] ?? identity;
};

/** The IAM principal API Gateway authenticated (SigV4), scoped by CALLER_SCOPE; the local runner fills the same fields. */
export const callerIdentity = (event: APIGatewayProxyEvent, scope: CallerScope = config().CALLER_SCOPE): string => {
  const identity = event.requestContext?.identity;
  return scopedIdentity(identity?.userArn ?? identity?.caller ?? identity?.accountId ?? 'anonymous', scope);
};

export const parseRequest = <Input extends Record<string, unknown>>(
  event: APIGatewayProxyEvent,
  definition: OperationDefinition<Input>,
): ParsedRequest<Input> => {
  const headers = lowerCaseHeaders(event.headers);
  const errors: FieldError[] = [];
  const body = readBody(event, headers, definition.request.body !== undefined);
  const query = readQuery(event, errors);

  const parts: Record<string, unknown> = {};
  const sources: Array<[z.ZodObject<z.ZodRawShape>, unknown]> = [
    [definition.request.path, event.pathParameters ?? {}],
    [definition.request.query, query],
  ];
  if (definition.request.body !== undefined) sources.push([definition.request.body, body ?? {}]);
  for (const [schema, value] of sources) {
    const parsed = schema.safeParse(value);
    if (parsed.success) Object.assign(parts, parsed.data);
    else errors.push(...fieldErrorsFromIssues(parsed.error.issues, { root: 'body', unknownFields: 'each' }));
  }
  if (errors.length > 0) throw invalidRequest(errors);

  // Each part was parsed by its own schema above; together they are exactly the definition's input.
  const input = parts as Input;
  const dryRun = definition.isDryRun(input);
  const idempotencyKey = parseIdempotencyKey(headers['idempotency-key']);
  if (!dryRun && idempotencyKey === undefined) {
    throw new ProblemError(
      'idempotency-key-missing',
      'Send an Idempotency-Key header (1-255 printable ASCII characters, unique per intended cancellation), or dryRun=true to preview.',
      { extensions: { errors: [{ path: 'Idempotency-Key', message: 'is required' }] } },
    );
  }
  return { input, dryRun, idempotencyKey, caller: callerIdentity(event) };
};
