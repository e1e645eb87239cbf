/**
 * One Lambda handler per operation, serving both of its triggers: API Gateway requests and its SQS queue. Thin by
 * design: parsing, idempotency, the provider call and the answer all come from the operation's definition and the
 * shared modules; this only wires them together and into the functions' one wrapper (shared/lambda.ts).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { assertProviderConfigured } from './providers/provider.js';
import { createHttpAnswer } from './http/http-answer.js';
import { createIdempotentRunner } from './idempotency.js';
import { withObservability } from './lambda.js';
import type { OperationDefinition } from './operations/definition.js';
import { createQueueConsumer } from './queue/consumer.js';

const isSqsEvent = (event: APIGatewayProxyEvent | SQSEvent): event is SQSEvent =>
  Array.isArray((event as SQSEvent).Records);

export const createOperationHandler = <Input extends Record<string, unknown>>(
  definition: OperationDefinition<Input>,
) => {
  // In Lambda, configuration is checked at init: every invalid or missing setting is named in one error, and
  // credentials must come from Secrets Manager, never from plain variables.
  if (process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined) assertProviderConfigured(definition.descriptor);
  const runIdempotently = createIdempotentRunner(definition);
  const answerHttp = createHttpAnswer(definition, runIdempotently);
  const consumeQueue = createQueueConsumer(definition, runIdempotently);

  function dispatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  function dispatch(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult>;
  function dispatch(
    event: APIGatewayProxyEvent | SQSEvent,
    context: Context,
  ): Promise<APIGatewayProxyResult | SQSBatchResponse> {
    return isSqsEvent(event) ? consumeQueue(event, context) : answerHttp(event, context);
  }

  return withObservability(
    dispatch as (
      event: APIGatewayProxyEvent | SQSEvent,
      context: Context,
    ) => Promise<APIGatewayProxyResult | SQSBatchResponse>,
  );
};
