/** Vitest global setup of the integration tier: one DynamoDB Local for every test file. */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../testkit/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => dynamo.stop();
}
