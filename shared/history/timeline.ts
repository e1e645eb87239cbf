/**
 * GET /v1/esims/{iccid}/timeline: what happened to one eSIM, newest first. The gateway's part is the caller's
 * operations on it (the `byCallerTarget` index) and their follow-ups; eSIM Go's part is its own history of the eSIM
 * (`GET /esims/{iccid}/history`), asked for only when the eSIM is the caller's at eSIM Go: when one of the caller's
 * operations on it is an eSIM Go one. Without one, eSIM Go is not asked (its history is of no concern to a caller that
 * never acted there); when eSIM Go cannot answer, the gateway's part still comes, marked so.
 */
import { type OperationRecord, callerTarget } from '../audit.js';
import type { ReadFailure } from '../providers/esim-go/client.js';
import { esimGo } from '../providers/esim-go/provider.js';
import { clientOf } from '../providers/provider.js';
import { logger } from '../observability.js';
import { targetOf } from './operations.js';
import { queryPage } from './query.js';
import { TIMELINE_MAX_OPERATIONS } from './schemas.js';

/** The history read the timeline needs of eSIM Go's client (shared/providers/esim-go/client.ts `history`). */
export interface EsimGoHistoryReader {
  history(
    iccid: string,
    options: { signal?: AbortSignal },
  ): Promise<
    | { ok: true; data: Array<{ name?: string; bundleName?: string; date?: string }> }
    | { ok: false; outcome: ReadFailure }
  >;
}

export type GatewayItem =
  | {
      at: string;
      source: 'gateway';
      kind: 'operation';
      operationId: string;
      operation: string;
      provider: string;
      target: string;
      status: OperationRecord['status'];
      httpStatus: number;
      attempts: number;
      refund?: OperationRecord['refund'];
    }
  | {
      at: string;
      source: 'gateway';
      kind: 'follow-up';
      operationId: string;
      operation: string;
      check: string;
      status: OperationRecord['status'];
      observed: Record<string, unknown>;
    };

export interface EsimGoItem {
  at: string;
  source: 'esim-go';
  /** eSIM Go's name of the action: `Bundle Applied`, `Bundle Revoked`, `Bundle Refunded to Inventory`, ... */
  name: string;
  bundleName: string | null;
}

export type TimelineItem = GatewayItem | EsimGoItem;

export type EsimGoSource = 'included' | 'not-an-esim-go-esim' | 'unavailable';

export interface Timeline {
  iccid: string;
  items: TimelineItem[];
  sources: { gateway: true; esimGo: EsimGoSource; esimGoDetail?: string };
  /** More than TIMELINE_MAX_OPERATIONS operations: only the newest ones are in. */
  truncated: boolean;
}

/** The gateway's items of one operation: its creation, then each follow-up check, oldest first. */
export const gatewayItems = (record: OperationRecord): GatewayItem[] => [
  {
    at: record.createdAt,
    source: 'gateway',
    kind: 'operation',
    operationId: record.operationId,
    operation: record.operation,
    provider: record.provider,
    target: record.target,
    status: record.status,
    httpStatus: record.httpStatus,
    attempts: record.attempts?.length ?? 0,
    ...(record.refund === undefined ? {} : { refund: record.refund }),
  },
  ...(record.timeline ?? []).map((entry): GatewayItem => ({
    at: entry.at,
    source: 'gateway',
    kind: 'follow-up',
    operationId: record.operationId,
    operation: record.operation,
    check: entry.source,
    status: entry.status,
    observed: entry.observed,
  })),
];

/** eSIM Go's entries as items, their dates in the gateway's form; an entry without a readable date is left out. */
export const esimGoItems = (
  entries: ReadonlyArray<{ name?: string; bundleName?: string; date?: string }>,
): EsimGoItem[] =>
  entries.flatMap((entry) => {
    const at = Date.parse(entry.date ?? '');
    if (!Number.isFinite(at)) return [];
    return [
      {
        at: new Date(at).toISOString(),
        source: 'esim-go' as const,
        name: entry.name ?? '',
        bundleName: entry.bundleName === undefined || entry.bundleName === '' ? null : entry.bundleName,
      },
    ];
  });

/**
 * Both parts, newest first. Items of one instant keep the reverse of their recorded order (a refund entry before the
 * revoke entry it follows), with eSIM Go's after the gateway's in time.
 */
export const mergeTimeline = (gateway: readonly GatewayItem[], esim: readonly EsimGoItem[]): TimelineItem[] =>
  [...gateway.toSorted((a, b) => a.at.localeCompare(b.at)), ...esim]
    .map((item, order) => ({ item, order }))
    .sort((a, b) => (a.item.at === b.item.at ? b.order - a.order : a.item.at < b.item.at ? 1 : -1))
    .map(({ item }) => item);

const unavailableDetail = (outcome: ReadFailure): string => {
  switch (outcome.kind) {
    case 'throttled':
      return 'eSIM Go throttled the history read; try again later';
    case 'rejected':
      return `eSIM Go refused the history read (HTTP ${outcome.upstream.status})`;
    case 'unknown':
      return 'eSIM Go did not answer the history read in time';
    case 'not_sent':
      return outcome.credentialsRefused === true
        ? "eSIM Go refused the gateway's credentials"
        : 'eSIM Go could not be read just now';
  }
};

/** eSIM Go's history of the eSIM, or why it is not in the answer. */
const readEsimGo = async (
  iccid: string,
  signal: AbortSignal,
  reader: () => Promise<EsimGoHistoryReader>,
): Promise<{ source: 'included'; items: EsimGoItem[] } | { source: 'unavailable'; detail: string }> => {
  try {
    const read = await (await reader()).history(iccid, { signal });
    if (read.ok) return { source: 'included', items: esimGoItems(read.data) };
    logger.warn('eSIM Go history unavailable', { outcome: read.outcome.kind });
    return { source: 'unavailable', detail: unavailableDetail(read.outcome) };
  } catch (error) {
    // No credentials (Secrets Manager, or eSIM Go not deployed), a configuration error: still the gateway's part.
    logger.warn('eSIM Go history unavailable', { error: error as Error });
    return { source: 'unavailable', detail: 'eSIM Go could not be read just now' };
  }
};

export const esimGoHistoryReader = async (): Promise<EsimGoHistoryReader> => clientOf(esimGo);

export const esimTimeline = async (
  caller: string,
  iccid: string,
  options: { signal: AbortSignal; reader?: () => Promise<EsimGoHistoryReader> },
): Promise<Timeline> => {
  const page = await queryPage<OperationRecord>(
    { index: 'byCallerTarget', partition: callerTarget(caller, targetOf({ iccid }) as string) },
    { limit: TIMELINE_MAX_OPERATIONS, maxQueries: TIMELINE_MAX_OPERATIONS / 100 },
  );
  const gateway = page.items.flatMap(gatewayItems);
  const ours = page.items.some((record) => record.provider === esimGo.name);
  const esim = ours ? await readEsimGo(iccid, options.signal, options.reader ?? esimGoHistoryReader) : undefined;
  return {
    iccid,
    items: mergeTimeline(gateway, esim?.source === 'included' ? esim.items : []),
    sources: {
      gateway: true,
      esimGo: esim === undefined ? 'not-an-esim-go-esim' : esim.source,
      ...(esim?.source === 'unavailable' ? { esimGoDetail: esim.detail } : {}),
    },
    truncated: page.next !== undefined,
  };
};
