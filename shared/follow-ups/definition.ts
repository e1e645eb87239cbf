/** What an operation says about its follow-ups: which ones an answer starts, and what one check observed. */
import type { OperationRecord, OperationStatus, RefundRecord } from '../audit.js';
import type { FollowUpKind } from './schedule.js';

/** The follow-ups a finished execution starts, and the fields they will complete. */
export interface PlannedFollowUps {
  kinds: ReadonlyArray<{ kind: FollowUpKind; firstDelaySeconds: number }>;
  refund?: RefundRecord;
  esimReturn?: 'in_returns';
}

export interface FollowUpContext<Input> {
  input: Input;
  record: OperationRecord;
  signal: AbortSignal;
  /** 1 for the first check. */
  check: number;
  /** The checks have backed off to FOLLOW_UP_MAX_DELAY_SECONDS: what has not shown up by now is taken as absent. */
  finalCheck: boolean;
}

/**
 * What one check found. `final`: the follow-up is over (with the operation's new status, or a completed field, and
 * the outcome event to publish); `pending`: not yet, check again later; `unavailable`: the provider could not be read
 * (down, throttled), check again later.
 */
export type FollowUpObservation =
  | {
      outcome: 'final';
      observed: Record<string, unknown>;
      status?: OperationStatus;
      refund?: RefundRecord;
      esimReturn?: OperationRecord['esimReturn'];
      /** The outcome event's detail-type suffix (`Refund Confirmed`): a status change publishes its own. */
      event?: string;
      /** A metric to count (by operation and provider), e.g. `RefundMismatches`. */
      metric?: string;
    }
  | { outcome: 'pending'; observed: Record<string, unknown>; undocumented?: boolean }
  | { outcome: 'unavailable'; observed: Record<string, unknown> };
