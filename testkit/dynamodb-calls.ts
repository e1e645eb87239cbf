/** Counts the DynamoDB calls one request makes, and the items they write, through the SDK middleware of the shared client. */
import { dynamoDBClient } from '../shared/dynamodb.js';

const calls: Array<{ command: string; itemsWritten: number }> = [];
let installed = false;

const WRITES = /^(PutItem|UpdateItem|DeleteItem)Command$/;

export const countDynamoDBCalls = async (
  work: () => Promise<unknown>,
): Promise<{ total: number; itemsWritten: number; commands: string[] }> => {
  if (!installed) {
    installed = true;
    dynamoDBClient.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        const transactItems = (args.input as { TransactItems?: unknown[] }).TransactItems;
        calls.push({
          command,
          itemsWritten:
            command === 'TransactWriteItemsCommand' ? (transactItems?.length ?? 0) : WRITES.test(command) ? 1 : 0,
        });
        return next(args);
      },
      { step: 'initialize', name: 'callCounter' },
    );
  }
  calls.length = 0;
  await work();
  const recorded = [...calls];
  return {
    total: recorded.length,
    itemsWritten: recorded.reduce((sum, call) => sum + call.itemsWritten, 0),
    commands: recorded.map((call) => call.command),
  };
};
