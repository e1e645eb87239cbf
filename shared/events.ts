/**
 * Outcome events: every finished execution (HTTP or event) puts `<Operation> <Status>` on the bus, e.g.
 * `Revoke Bundle Succeeded`. `detail.eventId` is stable (the same operation reaching the same status always has
 * the same id), so consumers can deduplicate redeliveries and replays. Without EVENT_BUS_NAME (local runs) they go to
 * the sink the local runner installs (infra/local/sinks.ts), which keeps and serves them; without either, publishing
 * fails, and the record stage logs it and counts EventPublishFailures.
 */
import { createHash } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { OperationStatus } from './audit.js';
import { config } from './config.js';

export const EVENT_SOURCE = 'sim-cancel-gateway';

export interface OutcomeEventDetail {
  eventId: string;
  operationId: string;
  operation: string;
  status: OperationStatus;
  target: string;
  caller: string;
  source: string;
  httpStatus: number;
  upstream: { status: number | null; message: string | null };
  reconciled: boolean;
  occurredAt: string;
  /** A batch's own event (`Batch Completed`): the batch and its counts by item status. */
  batch?: { batchId: string; total: number; counts: Record<string, number> };
}

export interface OutcomeEvent {
  source: typeof EVENT_SOURCE;
  detailType: string;
  detail: OutcomeEventDetail;
}

const STATUS_WORDS: Record<OperationStatus, string> = {
  succeeded: 'Succeeded',
  in_progress: 'In Progress',
  rejected: 'Rejected',
  failed: 'Failed',
  unknown: 'Unknown',
  stalled: 'Stalled',
};

export const outcomeDetailType = (eventName: string, status: OperationStatus): string =>
  `${eventName} ${STATUS_WORDS[status]}`;
export const requestedDetailType = (eventName: string): string => `${eventName} Requested`;

/** The same operation reaching the same status (or the same follow-up end, e.g. `refund:Refund Confirmed`) has one id. */
export const stableEventId = (operationId: string, what: OperationStatus | `${string}:${string}`): string => {
  const hex = createHash('sha256').update(`${operationId}:${what}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** Where outcome events go when no bus is configured. */
export type OutcomeSink = (event: OutcomeEvent) => void | Promise<void>;

let sink: OutcomeSink | undefined;

/** Installed by the local runner (and the tests and scripts that run handlers in-process); never in Lambda. */
export const setOutcomeSink = (next: OutcomeSink | undefined): void => {
  sink = next;
};

let client: EventBridgeClient | undefined;

export const publishOutcome = async (event: OutcomeEvent): Promise<void> => {
  const busName = config().EVENT_BUS_NAME;
  if (busName === undefined) {
    if (sink === undefined)
      throw new Error(
        'EVENT_BUS_NAME is not set (and no local sink is installed): the outcome event was not published',
      );
    await sink(event);
    return;
  }
  client ??= new EventBridgeClient({});
  const result = await client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: busName,
          Source: event.source,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
          Time: new Date(event.detail.occurredAt),
        },
      ],
    }),
  );
  if ((result.FailedEntryCount ?? 0) > 0)
    throw new Error(`EventBridge refused the outcome event: ${result.Entries?.[0]?.ErrorCode ?? 'unknown error'}`);
};
