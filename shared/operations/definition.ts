/**
 * The shape of one operation's single definition. The CDK stack (routes, functions), the local runner
 * (routes), the handlers (parsing, execution) and later the OpenAPI document and event consumers all read it,
 * so adding an operation means adding one definition, one thin handler and one simulator behaviour.
 */
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { ProblemError } from '../errors.js';
import type { ProviderOutcome } from '../providers/outcome.js';

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
  | (ProviderOutcome & { details?: Record<string, unknown> })
  | { kind: 'refused'; problem: ProblemError };

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
  summary: string;
  /** Configuration without a default that this operation cannot run without; checked at init in Lambda. */
  requiredConfig?: ReadonlyArray<keyof Config>;
  route: { method: HttpMethod; path: string };
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
  /** Performs the provider call. Never throws for provider behaviour: every ending is an OperationOutcome. */
  execute: (input: Input) => Promise<OperationOutcome>;
  /** Answers what `execute` would do, changing nothing anywhere. */
  dryRun: (input: Input) => Promise<DryRunAnswer>;
}

/** Keeps the literal types of a definition while checking it against the interface. */
export const defineOperation = <Input extends Record<string, unknown>>(definition: OperationDefinition<Input>): OperationDefinition<Input> =>
  definition;
