/**
 * The shape of one operation's single definition. The CDK stack (routes, functions), the local runner
 * (routes), the handlers (parsing, execution) and later the OpenAPI document and event consumers all read it,
 * so adding an operation means adding one definition, one thin handler and one simulator behaviour.
 */
import type * as z from '../zod.js';
import type { Config } from '../config.js';
import type { ProblemError } from '../errors.js';
import type { ProviderOutcome, UpstreamAnswer } from '../providers/outcome.js';

export type ProviderName = 'monogoto' | 'esim-go' | 'stn';
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

// zod object schemas whose fields are all strings on the wire (path and query parameters).
type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/**
 * How an operation ended: the provider's outcome, with what the operation learnt on the way (`details`, e.g.
 * which assignment it revoked), or a refusal by the gateway itself (a safety guard) that is as final as a
 * provider rejection: saved and replayed, and nothing was written upstream.
 */
export type OperationOutcome =
  | (Exclude<ProviderOutcome, { kind: 'succeeded' }> & { details?: Record<string, unknown> })
  /** `upstream` is null when success was established by reconciliation rather than read from the write's answer. */
  | { kind: 'succeeded'; upstream: UpstreamAnswer | null; details?: Record<string, unknown> }
  | { kind: 'refused'; problem: ProblemError };

/** What an earlier execution for the same key recorded before its provider write. */
export interface PreviousAttempt {
  operationId: string;
  request: unknown;
  snapshot?: unknown;
  sentAt: string;
  attempt: number;
}

/**
 * What reconciliation concluded about an earlier attempt whose outcome was lost:
 * `applied` (it took effect: answer as if it had), `absent` (provably no effect: send again),
 * `rejected` (the provider's state shows the request cannot succeed), or `ambiguous` (do not send; a person
 * must look: 409 reconciliation-needed with what was observed).
 */
export type Reconciliation =
  | { verdict: 'applied'; upstream: UpstreamAnswer | null; details?: Record<string, unknown> }
  /** `harmlessToResend`: sending again cannot add a second effect even if the first is still in flight. */
  | { verdict: 'absent'; harmlessToResend?: boolean }
  | { verdict: 'rejected'; upstream: UpstreamAnswer; message: string }
  | { verdict: 'ambiguous'; observed: Record<string, unknown> };

/** Given by the framework to `execute`: call it right before the provider write. */
export interface WriteGate {
  /**
   * Records durably that the write is about to be sent. When an earlier execution for this key may already have
   * sent it, the framework reconciles first: `proceed: false` carries the outcome to answer instead of sending.
   */
  beforeWrite: (attempt: { request: unknown; snapshot?: unknown }) => Promise<{ proceed: true; resend: boolean } | { proceed: false; outcome: OperationOutcome }>;
  /** The earlier attempt for this key, if any, without claiming anything (for paths that end before the write). */
  previousAttempt: () => Promise<PreviousAttempt | undefined>;
}

export interface DryRunAnswer {
  /** What a real call would send or do, as far as the provider's read APIs can tell. */
  preview: Record<string, unknown>;
  /** The provider's answer to the reads made for the preview, if any. */
  upstream: { status: number; body: unknown } | null;
}

export interface OperationDefinition<Input extends Record<string, unknown> = Record<string, unknown>> {
  /** Stable identifier: the function folder, the idempotency key prefix, the `operation` field, metrics. */
  name: string;
  provider: ProviderName;
  /** Human name used in event detail-types: `<eventName> Requested`, `<eventName> Succeeded`, ... */
  eventName: string;
  summary: string;
  /** Configuration without a default that this operation cannot run without; checked at init in Lambda. */
  requiredConfig?: ReadonlyArray<keyof Config>;
  route: { method: HttpMethod; path: string };
  /** A valid input (the local sandbox's records): the smoke test's dry runs and the API reference's examples. */
  example: Input;
  /** Input schemas by HTTP location; their fields together form `Input` (the flat shape events carry too). */
  request: {
    path: ObjectSchema;
    query: ObjectSchema;
    /** Absent for routes that take no body. */
    body?: ObjectSchema;
  };
  /** The whole input as one flat schema, for callers that are not HTTP (events). */
  input: z.ZodType<Input>;
  /** Whether this input asks for a dry run (every mutating route accepts `dryRun=true`). */
  isDryRun: (input: Input) => boolean;
  /** What the operation acts on, for records and events, e.g. `iccid:8944…` or `activation:q7Lm…`. */
  target: (input: Input) => string;
  /**
   * Performs the provider call, calling `gate.beforeWrite` right before the write. Never throws for provider
   * behaviour: every ending is an OperationOutcome.
   */
  execute: (input: Input, gate: WriteGate) => Promise<OperationOutcome>;
  /**
   * Decides whether an earlier attempt (its answer lost) took effect, reading the provider where it can.
   * `current` is what `execute` passed as `snapshot` in this execution (read just now).
   */
  reconcile: (context: { input: Input; previous: PreviousAttempt; current: unknown }) => Promise<Reconciliation>;
  /** Answers what `execute` would do, changing nothing anywhere. */
  dryRun: (input: Input) => Promise<DryRunAnswer>;
}

/** Keeps the literal types of a definition while checking it against the interface. */
export const defineOperation = <Input extends Record<string, unknown>>(definition: OperationDefinition<Input>): OperationDefinition<Input> =>
  definition;
