/**
 * Integration tests run the real handlers in-process, as the local runner does: without a bus or a dead-letter queue,
 * outcome events and dead letters go to its in-memory sinks (infra/local/sinks.ts) instead of failing to publish.
 */
import { installLocalSinks } from '../../infra/local/sinks.js';

installLocalSinks();
