/** Counts the DynamoDB calls one request makes, by kind of request, through the SDK middleware of the shared client. */
import { dynamoDBClient } from '../../shared/dynamodb.js';

const calls: string[] = [];
let installed = false;

export const countDynamoDBCalls = async (work: () => Promise<unknown>): Promise<{ total: number; writes: number; commands: string[] }> => {
  if (!installed) {
    installed = true;
    dynamoDBClient.middlewareStack.add((next, context) => async (args) => {
      calls.push(context.commandName ?? 'unknown');
      return next(args);
    }, { step: 'initialize', name: 'benchCallCounter' });
  }
  calls.length = 0;
  await work();
  const commands = [...calls];
  return { total: commands.length, writes: commands.filter((name) => /Put|Update|Delete|Write/.test(name)).length, commands };
};
