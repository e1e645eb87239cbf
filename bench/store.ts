/**
 * The store's own figures on DynamoDB Local, the floor under the gateway's latency: one write round trip from the
 * module-scope client and from a client made per request, and the ways the final write (answer + audit entry) could
 * go: two updates side by side (4 calls per new key), one transaction (shipped: 3 calls, atomic), or one
 * BatchWriteItem (3 calls, but neither atomic nor able to append to the audit record). Taken round-robin, one sample
 * of each per round, so the machine's noise falls on all alike.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { percentile } from './stats.js';

const PAYLOAD = { S: 'x'.repeat(600) };

export const measureStore = async (endpoint: string, rounds = 300) => {
  const client = new DynamoDBClient({ endpoint });
  const tables = [`bench-store-a-${Date.now()}`, `bench-store-b-${Date.now()}`] as const;
  for (const TableName of tables) {
    await client.send(
      new CreateTableCommand({
        TableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  const [first, second] = tables;
  const update = (TableName: string, id: string): Update => ({
    TableName,
    Key: { id: { S: id } },
    UpdateExpression: 'SET payload = :payload',
    ExpressionAttributeValues: { ':payload': PAYLOAD },
  });
  const kinds: Array<[string, (round: number) => Promise<unknown>]> = [
    [
      'one conditional PutItem (module-scope client, warm connection)',
      (round) =>
        client.send(
          new PutItemCommand({
            TableName: first,
            Item: { id: { S: `put-${round}` }, payload: PAYLOAD },
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        ),
    ],
    [
      'the same PutItem from a client made per request (new connection)',
      async (round) => {
        const perRequest = new DynamoDBClient({ endpoint });
        await perRequest.send(
          new PutItemCommand({
            TableName: first,
            Item: { id: { S: `fresh-${round}` }, payload: PAYLOAD },
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        );
        perRequest.destroy();
      },
    ],
    [
      'lock + key marker + target lease as one TransactWriteItems of three puts (shipped start of a new key)',
      (round) =>
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: ['lock', 'marker', 'lease'].map((kind) => ({
              Put: {
                TableName: first,
                Item: { id: { S: `start-${kind}-${round}` }, payload: PAYLOAD },
                ConditionExpression: 'attribute_not_exists(id)',
              },
            })),
          }),
        ),
    ],
    [
      'final write as two UpdateItems side by side (4 calls per new key)',
      (round) =>
        Promise.all([
          client.send(new UpdateItemCommand(update(first, `pair-${round}`))),
          client.send(new UpdateItemCommand(update(second, `pair-${round}`))),
        ]),
    ],
    [
      'final write as one TransactWriteItems of two updates',
      (round) =>
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Update: update(first, `tx-${round}`) }, { Update: update(second, `tx-${round}`) }],
          }),
        ),
    ],
    [
      'final write as one TransactWriteItems of three updates: answer, lease release, audit (shipped)',
      (round) =>
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Update: update(first, `tx3-${round}`) },
              { Update: update(first, `tx3r-${round}`) },
              { Update: update(second, `tx3-${round}`) },
            ],
          }),
        ),
    ],
    [
      'final write as one BatchWriteItem of two puts',
      (round) =>
        client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [first]: [{ PutRequest: { Item: { id: { S: `batch-${round}` }, payload: PAYLOAD } } }],
              [second]: [{ PutRequest: { Item: { id: { S: `batch-${round}` }, payload: PAYLOAD } } }],
            },
          }),
        ),
    ],
  ];
  const samples = kinds.map((): number[] => []);
  for (let round = 0; round < rounds + 30; round += 1) {
    for (const [index, [, call]] of kinds.entries()) {
      const started = performance.now();
      await call(round);
      if (round >= 30) samples[index]?.push(performance.now() - started);
    }
  }
  for (const TableName of tables) await client.send(new DeleteTableCommand({ TableName }));
  client.destroy();
  return kinds.map(([label], index) => ({
    label,
    p50: percentile(samples[index] ?? [], 50),
    p99: percentile(samples[index] ?? [], 99),
  }));
};
