/**
 * What one provider call ended in. Every provider client returns exactly one of these, so the operation
 * layer decides saving, replaying and status codes without knowing any provider's HTTP quirks.
 */
export interface UpstreamAnswer {
  /** The provider's HTTP status. */
  status: number;
  /** The provider's parsed JSON body, or its text when it was not JSON. */
  body: unknown;
}

export type ProviderOutcome =
  /** The provider did what was asked. */
  | { kind: 'succeeded'; upstream: UpstreamAnswer }
  /** The provider definitively refused (a 4xx that is not about throttling or our credentials). */
  | { kind: 'rejected'; upstream: UpstreamAnswer; message: string }
  /**
   * The request provably had no effect: it never reached the provider (connection refused, DNS failure), or the
   * provider refused our credentials before processing it (`credentialsRefused`). Safe to retry.
   */
  | { kind: 'not_sent'; reason: string; credentialsRefused?: boolean }
  /** The provider throttled us before doing anything. Safe to retry after the delay. */
  | { kind: 'throttled'; upstream: UpstreamAnswer; retryAfterSeconds: number }
  /**
   * The request may have been applied: a timeout or reset after sending, a 5xx, or a success status with a
   * body we cannot read. `timedOut` tells a 504 from a 502.
   */
  | { kind: 'unknown'; reason: string; timedOut: boolean; upstream?: UpstreamAnswer };

export type OutcomeKind = ProviderOutcome['kind'];
