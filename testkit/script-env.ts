import { installLocalSinks } from '../infra/local/sinks.js';

/**
 * The environment every local script (bench, soak, chaos) runs its handlers with: dummy credentials, quiet Powertools,
 * and the local runner's in-memory sinks for outcome events and dead letters (no bus, no dead-letter queue).
 */
export const useScriptEnvironment = (name: string, extra: Record<string, string> = {}): void => {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: name,
    AWS_SECRET_ACCESS_KEY: name,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...extra,
  });
  installLocalSinks();
};
