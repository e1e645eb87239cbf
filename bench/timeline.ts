/**
 * Where one request's time goes: the handler in-process (0 ms provider latency), with the start and end of every
 * DynamoDB call and of the provider call marked relative to the invocation's start; medians over many requests.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { dynamoDBClient } from '../shared/dynamodb.js';
import { median } from './stats.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export const measureTimeline = async (
  handler: Handler,
  request: () => { event: APIGatewayProxyEvent; context: Context },
  requests = 200,
  warmup = 40,
) => {
  let started = 0;
  const marks: string[] = [];
  const at: number[] = [];
  const mark = (label: string) => {
    marks.push(label);
    at.push(performance.now() - started);
  };
  dynamoDBClient.middlewareStack.add(
    (next, context) => async (args) => {
      mark(`${context.commandName ?? 'DynamoDB'} sent`);
      try {
        return await next(args);
      } finally {
        mark(`${context.commandName ?? 'DynamoDB'} answered`);
      }
    },
    { step: 'initialize', name: 'benchTimeline' },
  );
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    mark('provider call sent');
    try {
      return await originalFetch(...args);
    } finally {
      mark('provider call answered');
    }
  };
  const series = new Map<string, number[]>();
  try {
    for (let index = 0; index < warmup + requests; index += 1) {
      const { event, context } = request();
      marks.length = 0;
      at.length = 0;
      started = performance.now();
      const result = await handler(event, context);
      mark('answered');
      if (result.statusCode !== 200) throw new Error(`timeline request answered ${result.statusCode}: ${result.body}`);
      if (index < warmup) continue;
      marks.forEach((label, position) => {
        const key = `${position + 1}. ${label}`;
        series.set(key, [...(series.get(key) ?? []), at[position] ?? 0]);
      });
    }
  } finally {
    globalThis.fetch = originalFetch;
    dynamoDBClient.middlewareStack.remove('benchTimeline');
  }
  return [...series].map(([step, values]) => ({ step, ms: median(values) }));
};
