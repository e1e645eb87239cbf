/** DynamoDB for local runs: embedded dynalite by default, or any DynamoDB-compatible endpoint (DYNAMODB_ENDPOINT). */
import type { AddressInfo } from 'node:net';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { BATCHES_TABLE, IDEMPOTENCY_TABLE, OPERATIONS_INDEXES, OPERATIONS_TABLE } from '../../shared/tables.js';

interface IndexSchema {
  name: string;
  partitionKey: string;
  sortKey: string;
}

export interface LocalDynamo {
  endpoint: string;
  embedded: boolean;
  stop: () => Promise<void>;
}

export const startDynamo = async (endpoint: string | undefined): Promise<LocalDynamo> => {
  if (endpoint !== undefined && endpoint !== '') return { endpoint, embedded: false, stop: async () => undefined };
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    embedded: true,
    // Keep-alive sockets of clients still open (a follow-up in flight) would hold close() forever.
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
};

/** Creates the gateway's tables if they do not exist. */
export const ensureTables = async (
  client: DynamoDBClient,
  names: { idempotency: string; operations: string; batches?: string },
): Promise<void> => {
  await ensureTable(client, names.idempotency, IDEMPOTENCY_TABLE);
  if (names.batches !== undefined) await ensureTable(client, names.batches, BATCHES_TABLE);
  // The history routes' indexes, as the stack deploys them (infra/stack.ts addIndexes): string keys, ALL projected.
  await ensureTable(client, names.operations, OPERATIONS_TABLE, Object.values(OPERATIONS_INDEXES));
};

const attributes = (names: readonly string[]): AttributeDefinition[] =>
  [...new Set(names)].map((name) => ({ AttributeName: name, AttributeType: 'S' }));

/** Waits (up to a minute) until the table and each of its indexes are ACTIVE. */
const untilActive = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  for (let waited = 0; waited < 60_000; waited += 200) {
    const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    const indexes = table?.GlobalSecondaryIndexes ?? [];
    if (table?.TableStatus === 'ACTIVE' && indexes.every((index) => index.IndexStatus === 'ACTIVE')) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${tableName} did not become ACTIVE within a minute`);
};

const globalIndex = (index: IndexSchema): GlobalSecondaryIndex => ({
  IndexName: index.name,
  KeySchema: [
    { AttributeName: index.partitionKey, KeyType: 'HASH' },
    { AttributeName: index.sortKey, KeyType: 'RANGE' },
  ],
  Projection: { ProjectionType: 'ALL' },
});

/**
 * Creates a table keyed by one string attribute if it does not exist, with its global secondary indexes and with TTL
 * where the endpoint supports it. A table kept from before an index existed (DYNAMODB_ENDPOINT with a persistent
 * DynamoDB Local) gets the missing indexes added, one UpdateTable each, as DynamoDB allows.
 */
const ensureTable = async (
  client: DynamoDBClient,
  tableName: string,
  schema: { partitionKey: string; sortKey?: string; ttlAttribute: string },
  indexes: readonly IndexSchema[] = [],
): Promise<void> => {
  let existing: TableDescription | undefined;
  try {
    existing = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  if (existing !== undefined) {
    const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    // dynalite has no index creation on UpdateTable, but is always created fresh; DynamoDB Local has it.
    for (const index of indexes.filter((candidate) => !present.has(candidate.name))) {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributes([index.partitionKey, index.sortKey]),
          GlobalSecondaryIndexUpdates: [{ Create: globalIndex(index) }],
        }),
      );
      // One index at a time: the next UpdateTable is refused while this one is being built.
      await untilActive(client, tableName);
    }
    return;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributes([
        schema.partitionKey,
        ...(schema.sortKey === undefined ? [] : [schema.sortKey]),
        ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
      ]),
      KeySchema: [
        { AttributeName: schema.partitionKey, KeyType: 'HASH' },
        ...(schema.sortKey === undefined ? [] : [{ AttributeName: schema.sortKey, KeyType: 'RANGE' as const }]),
      ],
      ...(indexes.length === 0 ? {} : { GlobalSecondaryIndexes: indexes.map(globalIndex) }),
    }),
  );
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true },
      }),
    );
  } catch {
    // dynalite does not implement TTL; Powertools also checks `expiration` itself on read, so local runs stay correct.
  }
};

export const dynamoClient = (endpoint: string): DynamoDBClient => new DynamoDBClient({ endpoint });
