/**
 * The fleet's rate-limit windows: one item per provider and window in the idempotency table
 * (`rate#<provider>#<window start>`), whose `used` only grows while it is under the limit. Every container of every
 * function that calls the provider takes its starts here, so the fleet shares the provider's whole budget (a batch on
 * one operation may use all of it) and never exceeds it, whatever the number of containers. One conditional
 * UpdateItem per request; an item lives a minute (TTL).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from './config.js';
import { documentClient } from './dynamodb.js';
import type { WindowCounter } from './providers/rate-limit.js';
import { IDEMPOTENCY_TABLE } from './tables.js';

const windowKey = (provider: string, windowStart: number) => ({
  [IDEMPOTENCY_TABLE.partitionKey]: `${IDEMPOTENCY_TABLE.rateWindowPrefix}${provider}#${windowStart}`,
});
const expiration = (windowStart: number) => Math.floor(windowStart / 1000) + 60;

export const fleetWindows = (provider: string): WindowCounter => ({
  take: async (windowStart, allowed) => {
    try {
      await documentClient.send(
        new UpdateCommand({
          TableName: config().IDEMPOTENCY_TABLE_NAME,
          Key: windowKey(provider, windowStart),
          UpdateExpression: `ADD used :one SET #expiration = :expiration`,
          ConditionExpression: 'attribute_not_exists(used) OR used < :allowed',
          ExpressionAttributeNames: { '#expiration': IDEMPOTENCY_TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':one': 1, ':allowed': allowed, ':expiration': expiration(windowStart) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },
  fill: async (windowStart, allowed) => {
    await documentClient.send(
      new UpdateCommand({
        TableName: config().IDEMPOTENCY_TABLE_NAME,
        Key: windowKey(provider, windowStart),
        UpdateExpression: `SET used = :allowed, #expiration = :expiration`,
        ExpressionAttributeNames: { '#expiration': IDEMPOTENCY_TABLE.ttlAttribute },
        ExpressionAttributeValues: { ':allowed': allowed, ':expiration': expiration(windowStart) },
      }),
    );
  },
});
