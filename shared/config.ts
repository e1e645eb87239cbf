/**
 * Runtime configuration. The variable names are part of the public contract (design.md, "Configuration");
 * read them only here so a typo cannot hide in a handler.
 */
import { describeFieldErrors, fieldErrorsFromIssues } from './errors.js';
import * as z from './zod.js';

const onOff = z.enum(['on', 'off']);
const positiveInt = z.coerce.number().int().positive();

/** Settings every function shares; each provider's own come from its descriptor (shared/providers/<name>/provider.ts). */
export const commonSettings = {
  UPSTREAM_TIMEOUT_MS: positiveInt.default(8000),
  IDEMPOTENCY_TTL_SECONDS: positiveInt.default(86400),
  /**
   * How long after an attempt was sent reconciliation may conclude it had no effect (and send again). Until then
   * the attempt may still be in flight at the provider. Default: twice UPSTREAM_TIMEOUT_MS.
   */
  RECONCILE_AFTER_MS: positiveInt.optional(),
  IDEMPOTENCY_TABLE_NAME: z.string().min(1).default('sim-cancel-gateway-idempotency'),
  ICCID_CHECKSUM: onOff.default('on'),
  OPERATIONS_TABLE_NAME: z.string().min(1).default('sim-cancel-gateway-operations'),
  /** Bulk cancellations: each batch and its items. */
  BATCHES_TABLE_NAME: z.string().min(1).default('sim-cancel-gateway-batches'),
  /** How long the audit trail keeps an operation; longer than any idempotency window. */
  OPERATIONS_RETENTION_DAYS: positiveInt.default(400),
  /** The bus outcome events go to; without it (locally) they are kept in memory and served by the runner. */
  EVENT_BUS_NAME: z.string().min(1).optional(),
  /** Where a queue consumer puts a message that can never succeed (invalid input), instead of retrying it. */
  DEAD_LETTER_QUEUE_URL: z.string().min(1).optional(),
  /** Records of one SQS batch processed at once by one container (kept under the provider's rate limit). */
  BATCH_CONCURRENCY: positiveInt.default(5),
  /**
   * Where the providers' rate-limit windows are counted: `process` (one process is the whole fleet: `npm start`, the
   * tests) or `fleet` (DynamoDB, shared by every container; the stack sets it).
   */
  RATE_LIMIT_SCOPE: z.enum(['process', 'fleet']).default('process'),
  SECRETS_MAX_AGE_SECONDS: positiveInt.default(300),
  /** Who owns a key: `principal` makes every session of a role one caller (a retry from another task or SSO session finds its key); `session` keeps each session apart. */
  CALLER_SCOPE: z.enum(['principal', 'session']).default('principal'),
  EVENTS_QUEUE_ARN: z.string().min(1).optional(), // the queue only the EventBridge rule can send to: its records are bus events (set by the stack)
  /** The first check of an operation that is not final yet (sTN CANCELLING, an eSIM Go refund), after its answer. */
  FOLLOW_UP_FIRST_DELAY_SECONDS: positiveInt.default(60),
  /** Checks back off, doubling from the first delay, up to this. */
  FOLLOW_UP_MAX_DELAY_SECONDS: positiveInt.default(3600),
  /** An operation still not final this long after its answer is `stalled` (and alarmed on). */
  FOLLOW_UP_DEADLINE_SECONDS: positiveInt.default(604_800),
  /** When to check an eSIM that a revoke sent into eSIM Go's returns process (at least 4 days, eSIM Go says). */
  ESIM_RETURN_CHECK_SECONDS: positiveInt.default(345_600),
  /** The operation's own queue, where it sends its follow-ups (set by the stack); locally the runner's sink. */
  FOLLOW_UP_QUEUE_URL: z.string().min(1).optional(),
  /**
   * The function role's unique id (set by the stack): a follow-up is accepted only from a sender of this role, so
   * nobody else can make up one (its check number decides when a refund is taken as absent).
   */
  FOLLOW_UP_SENDER_ID: z.string().min(1).optional(),
  /** The unique ids of the roles that start batch items (comma-separated, set by the stack): only they may. */
  BATCH_SENDER_IDS: z.string().min(1).optional(),
  /** The operation's own queue, where it puts a batch item back for later (set by the stack); locally the runner's sink. */
  BATCH_RETRY_QUEUE_URL: z.string().min(1).optional(),
  /** `{"<operation>": "<queue url>"}`: where the batch functions send items (set by the stack). */
  BATCH_QUEUE_URLS: z.string().min(1).optional(),
};
const configSchema = z.object(commonSettings);

export type Config = z.infer<typeof configSchema>;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/**
 * Fails with one message naming every variable an operation needs and lacks. Handlers call it at init in
 * Lambda, so a misconfigured function fails its first invocation loudly instead of answering 500s later.
 */
export const assertConfigured = (required: readonly string[], env: NodeJS.ProcessEnv = process.env): void => {
  const missing = required.filter((name) => env[name] === undefined || env[name] === '');
  if (missing.length > 0) throw new ConfigurationError(`Missing configuration: ${missing.join(', ')} must be set`);
};

/** Parses the environment; an invalid value fails with one message naming every bad variable. */
export const readConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const trimmed = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(trimmed);
  if (!parsed.success) {
    throw new ConfigurationError(
      `Invalid configuration: ${describeFieldErrors(fieldErrorsFromIssues(parsed.error.issues, { root: 'configuration' }))}`,
    );
  }
  return parsed.data;
};

let cached: Config | undefined;
/** The configuration of this process, read once (Lambda containers and the local runner never change env). */
export const config = (): Config => (cached ??= readConfig());
/** For tests that change the environment between cases. */
export const resetConfigCache = (): void => {
  cached = undefined;
};
