/**
 * The gateway's Lambda defaults in one construct (as the Powertools example app does): ESM bundles built
 * locally with esbuild, SDK bundled and minified for cold starts, arm64, the newest Node.js runtime CDK
 * offers, active tracing, and a log group with retention.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLE_ALIASES, BUNDLE_BANNER, BUNDLE_MAIN_FIELDS, BUNDLE_TARGET } from '../bundling.js';
import { FUNCTION_TIMEOUT_SECONDS } from '../time-budget.js';

export interface OperationFunctionProps extends Pick<
  NodejsFunctionProps,
  'entry' | 'environment' | 'description' | 'reservedConcurrentExecutions' | 'memorySize'
> {
  logRetention?: RetentionDays;
  /**
   * Ship a source map and start Node with --enable-source-maps, so stack traces name the TypeScript files. Off by
   * default: Node parses the map on every cold start (about +10% import time for these bundles, docs/benchmarks.md).
   */
  sourceMaps?: boolean;
}

/** API Gateway's REST integration timeout is 29 s; the function stops just before it. */
export const FUNCTION_TIMEOUT = Duration.seconds(FUNCTION_TIMEOUT_SECONDS);

export class OperationFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: OperationFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: props.entry,
      description: props.description,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: FUNCTION_TIMEOUT,
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        ...(props.sourceMaps === true ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        POWERTOOLS_SERVICE_NAME: 'sim-cancel-gateway',
        POWERTOOLS_METRICS_NAMESPACE: 'SimCancelGateway',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        minify: true,
        sourceMap: props.sourceMaps === true,
        // Stack traces need file names and lines, not the sources themselves: a third of the map's size.
        sourcesContent: false,
        forceDockerBundling: false,
        // The SDK is bundled (not taken from the runtime) so its version is the one tested, and tree-shaken.
        externalModules: [],
        mainFields: BUNDLE_MAIN_FIELDS,
        banner: BUNDLE_BANNER,
        esbuildArgs: Object.fromEntries(
          Object.entries(BUNDLE_ALIASES).map(([name, path]) => [`--alias:${name}`, path]),
        ),
      },
    });
  }
}
