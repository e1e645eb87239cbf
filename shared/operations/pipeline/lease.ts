/**
 * The lease stage: claims this key's next attempt (its marker) and the target's lease. For a new key both were
 * already written in the idempotency lock's transaction; otherwise (a retry, a busy target, an endpoint without
 * transactions) they are claimed here. Ends with the attempt another key left unresolved on the target, if any, or
 * with an answer when another key's reconciliation already settled this key's earlier attempt.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type KeyMarker, claimKey, readKeyMarker } from '../../key-markers.js';
import { ProblemError, needsReconciliation } from '../../errors.js';
import {
  type Busy,
  type KnownEffect,
  type PendingAttempt,
  type TargetRecord,
  acquireLease,
  readTarget,
} from '../../target-lease.js';
import type { OperationOutcome } from '../definition.js';
import type { Execution } from './execution.js';

export interface LeaseClaim {
  marker: KeyMarker;
  /** An unresolved attempt on the target: this key's own lost answer, or another key's abandoned attempt. */
  pending?: PendingAttempt;
  /** The latest effect the gateway knows of on the target. */
  lastEffect?: KnownEffect;
  /** Another key's reconciliation settled this key's earlier attempt as absent: send, re-sending being the check. */
  resend?: boolean;
  /** Another key's reconciliation settled this key's earlier attempt: the answer, without any provider call. */
  settled?: OperationOutcome;
}

export const targetBusy = (busy: Busy): ProblemError =>
  new ProblemError(
    'target-busy',
    busy.reason === 'leased'
      ? 'Another request is working on this eSIM or activation right now. Nothing was sent; retry after the indicated delay (with the same Idempotency-Key).'
      : 'An earlier attempt on this eSIM or activation, made with another Idempotency-Key, has an outcome that is not known yet. Nothing was sent; ' +
          'once the provider can no longer be applying it, the gateway reconciles it and this request can proceed. Retry after the indicated delay.',
    { retryAfterSeconds: busy.retryAfterSeconds, extensions: { reason: busy.reason } },
  );

const known = <T>(item: Record<string, unknown> | null | undefined): T | null | undefined =>
  item === undefined || item === null ? item : (unmarshall(item as never) as T);

/** Turns a verdict another key recorded on this key's marker into this execution's answer (or a go-ahead). */
const fromRecordedVerdict = (marker: KeyMarker): Pick<LeaseClaim, 'settled' | 'resend'> => {
  const verdict = marker.verdict;
  if (verdict === undefined) return {};
  const details = { ...verdict.details, reconciled: true };
  if (verdict.verdict === 'applied')
    return { settled: { kind: 'succeeded', upstream: verdict.upstream ?? null, status: verdict.status, details } };
  if (verdict.verdict === 'rejected' && verdict.upstream != null)
    return {
      settled: { kind: 'rejected', upstream: verdict.upstream, message: verdict.message ?? 'rejected', details },
    };
  if (verdict.verdict === 'ambiguous')
    return { settled: { kind: 'refused', problem: needsReconciliation(verdict.observed ?? {}, marker.operationId) } };
  return { resend: verdict.harmlessToResend === true };
};

export const takeLease = async (execution: Execution): Promise<LeaseClaim> => {
  const { state, joined } = execution;
  const start = joined.start?.result;
  if (start?.joined === true) {
    state.marker = execution.freshMarker;
    state.leaseHeld = true;
    return { marker: execution.freshMarker };
  }
  const marker = await claimKey(
    execution.freshMarker,
    start === undefined ? undefined : known<KeyMarker>(start.knownMarker),
  );
  state.marker = marker;
  const knownTarget = start === undefined ? undefined : known<TargetRecord>(start.knownTarget);
  const verdict = marker.verdict?.verdict;
  if (verdict === 'applied' || verdict === 'rejected' || verdict === 'ambiguous') {
    // Another key settled this key's latest attempt: the answer needs no provider call, so no lease, however busy the
    // target is now. Unless this key has written again since (its own attempt is on the target): then that decides.
    const target = knownTarget === undefined ? await readTarget(execution.lease.targetId) : (knownTarget ?? undefined);
    const settled = fromRecordedVerdict(marker).settled;
    if (settled !== undefined && target?.pending?.keyId !== execution.lease.holder) return { marker, settled };
  }
  const acquired = await acquireLease(execution.lease, knownTarget);
  if (acquired.busy) throw targetBusy(acquired);
  state.leaseHeld = true;
  const { pending, lastEffect } = acquired;
  if (pending !== undefined) state.unresolved = true;
  if (pending !== undefined && pending.keyId === execution.lease.holder) return { marker, pending, lastEffect };
  // Verdicts are written under the lease, so the marker is read again now that this execution holds it: another key
  // (or this key's own save, landing late after its invocation) may have settled the attempt since it was claimed.
  const settledMarker = { ...marker, verdict: (await readKeyMarker(marker.id))?.verdict };
  state.marker = settledMarker;
  // Without an attempt of this key left on the target, a verdict on its marker is about its latest attempt, whatever
  // another key left there since (that attempt stays for the next execution that writes).
  return { marker: settledMarker, pending, lastEffect, ...fromRecordedVerdict(settledMarker) };
};
