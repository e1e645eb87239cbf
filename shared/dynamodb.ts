/**
 * The one DynamoDB client of this process (module scope, so warm invocations reuse its connections), shared by
 * Powertools idempotency and the gateway's own records. The SDK reads AWS_ENDPOINT_URL_DYNAMODB, so the local
 * runner and the tests point it elsewhere without code changes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const dynamoDBClient = new DynamoDBClient({});
export const documentClient = DynamoDBDocumentClient.from(dynamoDBClient, {
  marshallOptions: { removeUndefinedValues: true },
});
