/** DynamoDB for local runs: embedded dynalite by default, or any DynamoDB-compatible endpoint (DYNAMODB_ENDPOINT). */
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { IDEMPOTENCY_TABLE, OPERATIONS_TABLE } from '../../shared/tables.js';

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
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** Creates the gateway's tables if they do not exist. */
export const ensureTables = async (
  client: DynamoDBClient,
  names: { idempotency: string; operations: string },
): Promise<void> => {
  await ensureTable(client, names.idempotency, IDEMPOTENCY_TABLE);
  await ensureTable(client, names.operations, OPERATIONS_TABLE);
};

/** Creates a table keyed by one string attribute if it does not exist, with TTL where the endpoint supports it. */
const ensureTable = async (
  client: DynamoDBClient,
  tableName: string,
  schema: { partitionKey: string; ttlAttribute: string },
): Promise<void> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: schema.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: schema.partitionKey, KeyType: 'HASH' }],
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
