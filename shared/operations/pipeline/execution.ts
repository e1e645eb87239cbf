/**
 * One execution of an operation under an idempotency key: everything the pipeline's stages share, created per
 * request by the idempotency runner and passed down explicitly (nothing about a request lives in module state).
 */
import { randomUUID } from 'node:crypto';
import type { TransactWriteItem, Update } from '@aws-sdk/client-dynamodb';
import type { BatchItemRef } from '../../batches/model.js';
import { type KeyMarker, type RecordedVerdict, markerId, newKeyMarker, payloadHash } from '../../key-markers.js';
import { type KnownEffect, type Lease, newLease, targetId } from '../../target-lease.js';
import type { OperationDefinition } from '../definition.js';
import type { Recorder } from './recorder.js';

/** Where a request came from and how its key is logged: recorded in the audit trail and outcome events. */
export interface RequestMeta {
  source: string;
  keyHash: string;
  /** The batch item this operation runs (source `batch`): recorded on the record, for its follow-up to settle. */
  batch?: BatchItemRef;
}

/** Time kept back from the invocation for saving the answer and releasing the lease after the last provider call. */
export const SAVE_RESERVE_MS = 250;

/**
 * The writes an execution joins to Powertools' own: the key marker and the lease to its lock (one transaction for a
 * new key), the lease release and the audit entry to its final write. Read by `idempotency-client.ts`.
 */
export interface JoinedWrites {
  start?: { items: TransactWriteItem[]; result?: StartResult };
  final?: {
    release?: Update;
    /** Written only together with the release: this key's own effect on its marker (see `settleTarget`). */
    withRelease?: Update[];
    audit?: { update: Update; onSeparateFailure: (error: unknown) => void };
  };
}

/**
 * What the folded start transaction did: the key marker and lease are taken, or the slow path must decide, with what
 * DynamoDB showed of each item (the old item; null when there was none; undefined when unknown).
 */
export type StartResult =
  | { joined: true }
  | { joined: false; knownMarker?: Record<string, unknown> | null; knownTarget?: Record<string, unknown> | null };

export interface Execution<Input extends Record<string, unknown> = Record<string, unknown>> {
  definition: OperationDefinition<Input>;
  input: Input;
  scope: { caller: string; key: string };
  meta: RequestMeta;
  recorder: Recorder;
  /** The marker this execution creates if the key is new (its operation id is the one a new key gets). */
  freshMarker: KeyMarker;
  lease: Lease;
  /** When the invocation ends (Lambda's deadline), and the signal that aborts provider calls before it. */
  deadline: number;
  signal: AbortSignal;
  joined: JoinedWrites;
  /** Set by the stages as the execution goes: */
  state: {
    marker?: KeyMarker;
    leaseHeld: boolean;
    /** An attempt on the target (this key's or another's) whose outcome is not known remains. */
    unresolved: boolean;
    /** This execution's own write went out. */
    writeSent: boolean;
    /** The effect this execution established on the target (recorded with the lease's release). */
    effect?: KnownEffect;
    /** This key's own success, recorded on its marker with the release (a backstop for the saved answer). */
    ownVerdict?: RecordedVerdict;
  };
}

export const createExecution = <Input extends Record<string, unknown>>(
  definition: OperationDefinition<Input>,
  request: { input: Input; scope: { caller: string; key: string }; meta: RequestMeta },
  remainingMs: number,
  recorder: Recorder,
): Execution<Input> => {
  const deadline = Date.now() + remainingMs;
  const keyId = markerId(definition.name, request.scope);
  const target = targetId(definition.provider, definition.lease(request.input));
  return {
    definition,
    input: request.input,
    scope: request.scope,
    meta: request.meta,
    recorder,
    freshMarker: newKeyMarker({
      id: keyId,
      operation: definition.name,
      operationId: newOperationId(),
      payloadHash: payloadHash(request.input),
      target,
    }),
    lease: newLease(target, keyId, deadline),
    deadline,
    signal: AbortSignal.timeout(Math.max(deadline - SAVE_RESERVE_MS - Date.now(), 0)),
    joined: {},
    state: { leaseHeld: false, unresolved: false, writeSent: false },
  };
};

export const newOperationId = (): string => `op_${randomUUID().replaceAll('-', '')}`;
