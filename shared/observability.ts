/** One logger, metrics and tracer per process, shared by every handler (Powertools reads POWERTOOLS_* env). */
import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const SERVICE_NAME = 'sim-cancel-gateway';

export const logger = new Logger({ serviceName: SERVICE_NAME, correlationIdSearchFn: search });
export const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: 'SimCancelGateway' });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
