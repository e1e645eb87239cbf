/**
 * The shape of one operation's single definition. The CDK stack (routes, functions), the local runner
 * (routes), the handlers (parsing, execution) and later the OpenAPI document and event consumers all read it,
 * so adding an operation means adding one definition, one thin handler and one simulator behaviour.
 */
import * as z from '../zod.js';
import type { AnyProvider } from '../providers/provider.js';
import type { ProblemError } from '../errors.js';
import type { ProviderOutcome, UpstreamAnswer } from '../providers/outcome.js';
import type { OperationStatus } from '../audit.js';
import type { FollowUpContext, FollowUpObservation, PlannedFollowUps } from '../follow-ups/definition.js';
import type { FollowUpKind } from '../follow-ups/schedule.js';

/** A provider descriptor's `name` (shared/providers/registry.ts lists them). */
export type ProviderName = string;
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** How a success stands: done, or accepted by the provider and completed later. */
export type SucceededStatus = 'succeeded' | 'in_progress';

// zod object schemas whose fields are all strings on the wire (path and query parameters).
type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** The flat input of an operation: its path, query and body fields together. */
export type ContractInput<
  Path extends ObjectSchema,
  Query extends ObjectSchema,
  Body extends ObjectSchema | undefined,
> = z.infer<Path> & z.infer<Query> & (Body extends ObjectSchema ? z.infer<Body> : Record<never, never>);

/**
 * How an operation ended: the provider's outcome, with what the operation learnt on the way (`details`, e.g.
 * which assignment it revoked), or a refusal by the gateway itself (a safety guard) that is as final as a
 * provider rejection: saved and replayed, and nothing was written upstream.
 */
export type OperationOutcome =
  | (Exclude<ProviderOutcome, { kind: 'succeeded' }> & { details?: Record<string, unknown> })
  /**
   * `upstream` is null when success was established by reconciliation rather than read from the write's answer.
   * `status`: `in_progress` when the provider accepted the request and completes it later (sTN CANCELLING).
   */
  | { kind: 'succeeded'; upstream: UpstreamAnswer | null; status?: SucceededStatus; details?: Record<string, unknown> }
  | { kind: 'refused'; problem: ProblemError };

/** What an earlier execution recorded right before its provider write, whose outcome is not known. */
export interface PreviousAttempt<Snapshot = unknown> {
  operationId: string;
  request: unknown;
  snapshot?: Snapshot;
  sentAt: string;
  sentAtMs: number;
  attempt: number;
  /** Whether this key sent it (its own lost answer) or another key did (an abandoned attempt on the same target). */
  own: boolean;
  /**
   * The gateway knows of an effect on the target from before this attempt was sent (another key's success): a final
   * state that looks the same whoever caused it (sTN CANCELLING) then proves nothing about this attempt.
   */
  effectBefore: boolean;
  /** This attempt's write was also the check of another key's attempt: a final state now cannot say whose it is. */
  checkedAnother: boolean;
}

/**
 * What reconciliation concluded about an earlier attempt whose outcome was lost:
 * `applied` (it took effect: answer as if it had), `absent` (no effect: send again), `rejected` (the provider's
 * state shows the request cannot succeed), or `ambiguous` (do not send; a person must look: 409 with what was
 * observed).
 */
export type Reconciliation =
  | { verdict: 'applied'; upstream: UpstreamAnswer | null; status?: SucceededStatus; details?: Record<string, unknown> }
  /**
   * `harmlessToResend`: sending again cannot add a second effect even if the first is still in flight.
   * `observedAt`: when the reads this verdict rests on started, if reconcile made its own (else the snapshot's).
   * "No effect" only counts from reads that started after the earlier write can no longer land.
   */
  | { verdict: 'absent'; harmlessToResend?: boolean; observedAt?: number }
  | { verdict: 'rejected'; upstream: UpstreamAnswer; message: string }
  | { verdict: 'ambiguous'; observed: Record<string, unknown> };

/** Passed by an operation to its provider client's write: the client calls it right before the request goes out. */
export type BeforeSend = () => Promise<void>;

/** Given by the framework to `execute`. */
// Method syntax: a gate typed in one operation's snapshot is then the pipeline's gate too.
export interface WriteGate<Snapshot = unknown> {
  /** Aborts at the invocation's deadline (minus what the answer's save needs): pass it to every provider call. */
  signal: AbortSignal;
  /**
   * Call after the reads and right before the write. When an earlier attempt on this target may already have been
   * sent, the framework reconciles first: `proceed: false` carries the outcome to answer instead of sending.
   * `observedAt` is when the reads behind `snapshot` started. On `proceed: true`, hand `beforeSend` to the client:
   * it records the attempt durably and refuses when the invocation cannot cover the call. `resend`: this key's
   * earlier write is being sent again; `effectBeforeEarlier`: the gateway knew of an effect on the target from before
   * that earlier write (so a refusal now is explained by it, not by that write); `earlierCheckedAnother`: that earlier
   * write was also the check of another key's attempt (so a refusal now cannot say which of the two took effect).
   */
  beforeWrite(attempt: { request: unknown; snapshot?: Snapshot; observedAt: number }): Promise<
    | {
        proceed: true;
        resend: boolean;
        beforeSend: BeforeSend;
        effectBeforeEarlier: boolean;
        earlierCheckedAnother: boolean;
      }
    | { proceed: false; outcome: OperationOutcome }
  >;
  /** The unresolved attempt on this target, if any, for paths that end before the write. */
  pendingAttempt(): PreviousAttempt<Snapshot> | undefined;
  /**
   * Settles the pending attempt as applied from what the provider shows (e.g. the eSIM left the account). For this
   * key's own attempt it returns the outcome to answer; for another key's it records the verdict for that key.
   */
  settlePendingAsApplied(evidence: {
    upstream: UpstreamAnswer | null;
    details: Record<string, unknown>;
  }): Promise<OperationOutcome | undefined>;
}

export interface DryRunAnswer {
  /** What a real call would send or do, as far as the provider's read APIs can tell. */
  preview: Record<string, unknown>;
  /** The provider's answer to the reads made for the preview, if any. */
  upstream: { status: number; body: unknown } | null;
}

/** A request the start banner prints for the local sandbox, built from the contract's route (it works as pasted). */
export interface TryIt<Input> {
  /** What the line does, printed above it. */
  say: string;
  input: Partial<{ [Field in keyof Input]: string | boolean }>;
  /** Sent as `Idempotency-Key`; absent for dry runs. */
  idempotencyKey?: string;
}

/**
 * The public face of one operation, as pure data: what CDK, the OpenAPI document, the local runner and the event
 * consumers need, with no runtime code behind it (importing a contract loads no provider client).
 */
export interface OperationContract<Input extends Record<string, unknown> = Record<string, unknown>> {
  /** Stable identifier: the function folder, the idempotency key prefix, the `operation` field, metrics. */
  name: string;
  /** The provider descriptor's `name`. */
  provider: ProviderName;
  /** Human name used in event detail-types: `<eventName> Requested`, `<eventName> Succeeded`, ... */
  eventName: string;
  summary: string;
  /**
   * The longest chain of sequential provider calls one execution can make (each up to UPSTREAM_TIMEOUT_MS): synth
   * refuses a timeout where this chain does not fit the function's timeout.
   */
  maxSequentialCalls: number;
  route: { method: HttpMethod; path: string };
  /** A valid input (the local sandbox's records): the smoke test's dry runs and the API reference's examples. */
  example: Input;
  /** Requests against the sandbox's records for the start banner, in the order a new user would try them. */
  tryIt: ReadonlyArray<TryIt<Input>>;
  /** Input schemas by HTTP location; their fields together form `Input` (the flat shape events carry too). */
  request: {
    path: ObjectSchema;
    query: ObjectSchema;
    /** Absent for routes that take no body. */
    body?: ObjectSchema;
  };
  /** The whole input as one flat schema, for callers that are not HTTP (events): derived from `request`. */
  input: z.ZodType<Input>;
  /** What the operation acts on, for records and events, e.g. `iccid:8944…` or `activation:q7Lm…`. */
  target(input: Input): string;
  /** The follow-ups its answers may start (the stack lets its function send them; the dashboard graphs them). */
  followUps?: readonly FollowUpKind[];
}

/**
 * What the operation does, typed in its input and in the snapshot its reads leave for reconciliation. Method syntax
 * on purpose: a typed definition is then usable where the pipeline takes any definition, with no cast.
 */
export interface OperationBehaviour<Input extends Record<string, unknown>, Snapshot = unknown> {
  /** The provider's descriptor: its client, settings and limits. */
  descriptor: AnyProvider;
  /** Whether this input asks for a dry run (every mutating route accepts `dryRun=true`). */
  isDryRun(input: Input): boolean;
  /**
   * What the target lease serializes on: every key's work on it runs one at a time (an eSIM for Monogoto and eSIM Go,
   * whatever the bundle; an activation for sTN). Names the lease per provider, so it is shared by all of its operations.
   */
  lease(input: Input): string;
  /**
   * Performs the provider call, calling `gate.beforeWrite` right before the write. Never throws for provider
   * behaviour: every ending is an OperationOutcome.
   */
  execute(input: Input, gate: WriteGate<Snapshot>): Promise<OperationOutcome>;
  /**
   * Decides whether an earlier attempt on this target (its answer lost) took effect, reading the provider where it
   * can. `current` is what `execute` passed as `snapshot` in this execution (read just now). The earlier attempt may be
   * another key's (with another input on the same target): judge it from `previous`, not from `input`.
   */
  reconcile(context: {
    input: Input;
    previous: PreviousAttempt<Snapshot>;
    current: Snapshot | undefined;
    signal: AbortSignal;
  }): Promise<Reconciliation>;
  /**
   * For providers without a read API (reconcile answers `harmlessToResend`): what this execution's own write says
   * about another key's earlier attempt on the same target. Undefined: that key's retry re-sends as its own check.
   */
  judgeEarlierByOwnWrite?(
    outcome: OperationOutcome,
    earlier: PreviousAttempt<Snapshot>,
  ): 'applied' | 'absent' | 'ambiguous' | undefined;
  /** Answers what `execute` would do, changing nothing anywhere. */
  dryRun(input: Input): Promise<DryRunAnswer>;
  /** The follow-ups an answer starts (one not final yet, a refund to confirm); none when undefined. */
  followUpsAfter?(answer: {
    input: Input;
    status: OperationStatus;
    details: Record<string, unknown> | undefined;
    answeredAt: string;
  }): PlannedFollowUps | undefined;
  /** One follow-up check: reads the provider, changes nothing there, and says where the operation stands. */
  checkFollowUp?(kind: FollowUpKind, context: FollowUpContext<Input>): Promise<FollowUpObservation>;
}

/** One operation: its contract and its behaviour, which the handlers, the pipeline and the tooling read. */
export type OperationDefinition<
  Input extends Record<string, unknown> = Record<string, unknown>,
  Snapshot = unknown,
> = OperationContract<Input> & OperationBehaviour<Input, Snapshot>;

/**
 * Checks a contract and derives its flat `input` schema from the path, query and body fields; `refine` holds rules
 * across fields (applied to the query, where such options live, and to the flat input).
 */
export const defineContract = <
  Path extends ObjectSchema,
  Query extends ObjectSchema,
  Body extends ObjectSchema | undefined = undefined,
>(
  contract: Omit<OperationContract<ContractInput<Path, Query, Body>>, 'request' | 'input'> & {
    request: { path: Path; query: Query; body?: Body };
    refine?: (value: Record<string, unknown>, context: z.RefinementCtx) => void;
  },
): OperationContract<ContractInput<Path, Query, Body>> => {
  const { refine, request, ...rest } = contract;
  const flat = z.strictObject({ ...request.path.shape, ...request.query.shape, ...(request.body?.shape ?? {}) });
  // The flat object's fields are exactly Path's, Query's and Body's, so its output is ContractInput: zod cannot spell
  // a spread of generic shapes, hence the one assertion.
  const input = (refine === undefined ? flat : flat.superRefine(refine)) as unknown as z.ZodType<
    ContractInput<Path, Query, Body>
  >;
  return {
    ...rest,
    request: { ...request, query: refine === undefined ? request.query : request.query.superRefine(refine) },
    input,
  };
};

/** Joins a contract with its behaviour, checking that they name the same provider. */
export const defineOperation = <Input extends Record<string, unknown>, Snapshot>(
  contract: OperationContract<Input>,
  behaviour: OperationBehaviour<Input, Snapshot>,
): OperationDefinition<Input, Snapshot> => {
  if (behaviour.descriptor.name !== contract.provider)
    throw new Error(
      `${contract.name}: its contract names ${contract.provider}, its behaviour ${behaviour.descriptor.name}`,
    );
  return { ...contract, ...behaviour };
};
