/**
 * The one Lambda wrapper every function is exported through (the operation handlers, get-operation, openapi): middy
 * with Powertools' logger (the Lambda context on every line, per-invocation keys reset), tracer (one segment per
 * invocation, responses not captured: they may carry customer data) and metrics (flushed at the end of each
 * invocation, with the cold-start metric).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability.js';

export const withObservability = <Event, Result>(handler: (event: Event, context: Context) => Promise<Result>) =>
  middy<Event, Result>(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
