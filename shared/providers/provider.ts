/**
 * What a provider is, in one descriptor per provider (`shared/providers/<name>/provider.ts`): its settings, its
 * secret, its rate limits, how to build its client and where its sandbox lives. The configuration schema, the stack,
 * the local runner, its banner and the test harness iterate over the descriptors (`./registry.ts`) and never name a
 * provider. A Lambda bundle imports only its own provider's descriptor, so no other provider's client ends up in it.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { ConfigurationError, assertConfigured, config } from '../config.js';
import { ProblemError, describeFieldErrors, fieldErrorsFromIssues } from '../errors.js';
import type { SimulatorServer } from '../../sandbox/server.js';
import * as z from '../zod.js';
import { RateLimiter } from './rate-limit.js';

/** Settings by their name without the provider's prefix (`BASE_URL` is read as `ESIM_GO_BASE_URL`). */
export type SettingsShape = {
  BASE_URL: z.ZodType<string | undefined>;
  SECRET_ARN: z.ZodType<string | undefined>;
} & z.ZodRawShape;

/**
 * The provider's rate limits, for the whole fleet: every function of the provider shares them (the stack divides
 * `containers` among them), so adding an operation on a provider never raises the rate the provider sees.
 */
export interface ProviderLimits {
  /** Containers (reserved concurrency) across all of the provider's functions. */
  containers: number;
  /** Each SQS event source mapping's maximum concurrency (Lambda's minimum is 2). */
  queueConcurrency: number;
  /**
   * Records of one SQS batch, all processed at once in one container: no record waits for another, so each has the
   * whole of one execution's time budget (infra/time-budget.ts) and an invocation never outlives its timeout.
   */
  recordsPerBatch: number;
  /** Requests per second the provider allows the whole fleet, counted across containers. Undefined: no published limit. */
  requestsPerSecond?: number;
}

/** The secret the stack creates: `template` holds the fixed keys, `generatedKey` a placeholder to overwrite after the first deploy. */
export interface SecretShape<Credentials> {
  schema: z.ZodType<Credentials>;
  template: Record<string, string>;
  generatedKey: string;
  /** Credentials from plain settings (local runs), or undefined when they are not set. */
  fromSettings(settings: Record<string, unknown>): Credentials | undefined;
  /** The plain settings that can hold them, for the error when neither they nor the secret are set. */
  plainSettings: readonly string[];
}

/** The secret of a provider authenticated by one API key: `{"apiKey"}` in AWS, `<PREFIX>_API_KEY` locally. */
export const apiKeySecret: SecretShape<string> = {
  schema: z.object({ apiKey: z.string().min(1) }).transform(({ apiKey }) => apiKey),
  template: {},
  generatedKey: 'apiKey',
  fromSettings: (settings) => (typeof settings.API_KEY === 'string' ? settings.API_KEY : undefined),
  plainSettings: ['API_KEY'],
};

/** A provider sandbox started by `npm start` and the tests: a simulator over real HTTP with ready-made records. */
export interface RunningSandbox<Simulator = unknown> {
  simulator: Simulator;
  /** The HTTP server behind it: every request it received, and its fault injection. */
  server: SimulatorServer;
  /** The settings that point the gateway at it, without the prefix (`BASE_URL`, credentials). */
  settings: Record<string, string>;
  stop: () => Promise<void>;
  /** The start banner's lines: the records, and requests against `gatewayUrl` that work as pasted. */
  banner: (gatewayUrl: string) => string[];
}

/** Options every sandbox takes (each may take more): whether to start with its records, latency, its rate limit. */
export interface SandboxOptions {
  seed?: boolean;
  latencyMs?: number;
  requestsPerSecond?: number;
}

export interface SandboxModule<Simulator = unknown, Options extends SandboxOptions = SandboxOptions> {
  // Method syntax: a sandbox with richer options is still a SandboxModule (bivariant parameter).
  startSandbox(options?: Options): Promise<RunningSandbox<Simulator>>;
}

export interface ProviderDescriptor<
  Settings extends SettingsShape = SettingsShape,
  Credentials = unknown,
  Client = unknown,
  Sandbox extends SandboxModule<unknown, SandboxOptions> = SandboxModule,
> {
  /** Stable identifier: URL segment, metric dimension, lease prefix (`esim-go`). */
  name: string;
  /** How people write it (`eSIM Go`). */
  label: string;
  /** Prefix of its settings (`ESIM_GO` → `ESIM_GO_BASE_URL`). */
  envPrefix: string;
  settings: Settings;
  secret: SecretShape<Credentials>;
  limits: ProviderLimits;
  /** A string only this provider's client code contains: how the synth test and the bench tell which client a bundle carries. */
  clientMarker: string;
  /**
   * Builds the client from the parsed settings; called once per process. Asynchronous so a descriptor can import its
   * client lazily: tooling that reads descriptors (CDK, the configuration schema) then loads no client code.
   */
  // Method syntax on purpose: a descriptor is then assignable to the registry's common view (AnyProvider).
  createClient(context: {
    settings: z.infer<z.ZodObject<Settings>>;
    timeoutMs: number;
    credentials: () => Promise<Credentials>;
    /** Paces the client's requests to `REQUESTS_PER_SECOND` (when the provider has it set) for the whole fleet. */
    limiter: RateLimiter | undefined;
  }): Promise<Client>;
  /** Loads the sandbox module (tooling only: never called in Lambda). */
  sandbox(): Promise<Sandbox>;
}

export type AnyProvider = ProviderDescriptor<SettingsShape, unknown, unknown, SandboxModule<unknown, SandboxOptions>>;

/** Keeps a descriptor's literal types while checking it against the interface. */
export const defineProvider = <
  Settings extends SettingsShape,
  Credentials,
  Client,
  Sandbox extends SandboxModule<unknown, SandboxOptions>,
>(
  descriptor: ProviderDescriptor<Settings, Credentials, Client, Sandbox>,
) => descriptor;

/** The environment variable of one setting: `variable(esimGo, 'BASE_URL')` is `ESIM_GO_BASE_URL`. */
export const variable = (provider: Pick<AnyProvider, 'envPrefix'>, setting: string): string =>
  `${provider.envPrefix}_${setting}`;

/** The provider's settings as environment variables, for the configuration schema. */
export const prefixedSettings = (provider: AnyProvider): z.ZodRawShape =>
  Object.fromEntries(
    Object.entries(provider.settings).map(([setting, schema]) => [variable(provider, setting), schema]),
  );

/** Settings whose schema accepts no value (no default, not optional): a function of this provider cannot run without them. */
export const requiredSettings = (provider: AnyProvider): string[] =>
  Object.entries(provider.settings)
    .filter(([, schema]) => !(schema as z.ZodType).safeParse(undefined).success)
    .map(([setting]) => variable(provider, setting));

const unset = (value: string | undefined) => value === undefined || value === '';

/** Reads and checks the provider's settings from the environment; one error names every bad variable. */
export const readSettings = <Settings extends SettingsShape>(
  provider: ProviderDescriptor<Settings, unknown, unknown, SandboxModule<unknown, SandboxOptions>>,
  env: NodeJS.ProcessEnv = process.env,
) => {
  const raw = Object.fromEntries(
    Object.keys(provider.settings)
      .map((setting) => [setting, env[variable(provider, setting)]])
      .filter(([, value]) => !unset(value)),
  );
  const parsed = z.object(provider.settings).safeParse(raw);
  if (!parsed.success) {
    const problems = fieldErrorsFromIssues(parsed.error.issues, { root: 'settings' }).map((error) => ({
      ...error,
      path: variable(provider, error.path),
    }));
    throw new ConfigurationError(`Invalid configuration: ${describeFieldErrors(problems)}`);
  }
  return parsed.data;
};

/**
 * The provider's credentials: from its Secrets Manager secret when `SECRET_ARN` is set (AWS, cached by Powertools for
 * SECRETS_MAX_AGE_SECONDS), else from plain settings (local runs). Fails closed, naming keys and never values.
 */
export const readCredentials = async <Credentials>(
  provider: ProviderDescriptor<SettingsShape, Credentials, unknown, SandboxModule<unknown, SandboxOptions>>,
  settings: Record<string, unknown>,
): Promise<Credentials> => {
  const secretArn = settings.SECRET_ARN as string | undefined;
  if (secretArn === undefined) {
    const plain = provider.secret.fromSettings(settings);
    if (plain !== undefined) return plain;
    throw new ConfigurationError(
      `${provider.label} credentials are missing: set ${variable(provider, 'SECRET_ARN')}, or ${provider.secret.plainSettings.map((name) => variable(provider, name)).join(' and ')}`,
    );
  }
  let value: unknown;
  try {
    value = await getSecret(secretArn, { transform: 'json', maxAge: config().SECRETS_MAX_AGE_SECONDS });
  } catch (error) {
    throw new ProblemError(
      'dependency-unavailable',
      `The ${provider.label} credentials could not be read from Secrets Manager, so the provider was not called. Retry later.`,
      {
        retryAfterSeconds: 5,
        cause: error,
      },
    );
  }
  const parsed = provider.secret.schema.safeParse(value);
  if (!parsed.success) {
    // Names the missing keys, never the values.
    const keys = fieldErrorsFromIssues(parsed.error.issues, { root: 'secret' })
      .map((error) => error.path)
      .join(', ');
    throw new ConfigurationError(`The ${provider.label} secret must be a JSON object with non-empty ${keys}`);
  }
  return parsed.data;
};

/**
 * The provider's limiter: its REQUESTS_PER_SECOND for the whole fleet, counted in this process or, deployed
 * (RATE_LIMIT_SCOPE=fleet), in DynamoDB for every container of every function that calls the provider.
 */
const limiterOf = async (
  provider: AnyProvider,
  settings: Record<string, unknown>,
): Promise<RateLimiter | undefined> => {
  const perSecond = settings.REQUESTS_PER_SECOND;
  if (typeof perSecond !== 'number') return undefined;
  if (config().RATE_LIMIT_SCOPE === 'process') return new RateLimiter(perSecond);
  // Imported here so that tooling reading descriptors (CDK, the configuration schema) loads no DynamoDB client.
  const { fleetWindows } = await import('../rate-windows.js');
  return new RateLimiter(perSecond, { counter: fleetWindows(provider.name) });
};

// One client per provider and process: warm invocations reuse its connections, token and rate limiter.
const clients = new WeakMap<object, Promise<unknown>>();

/** The provider's client of this process, built on first use from its settings. */
export const clientOf = <Client>(
  provider: ProviderDescriptor<SettingsShape, unknown, Client, SandboxModule<unknown, SandboxOptions>>,
): Promise<Client> => {
  let client = clients.get(provider) as Promise<Client> | undefined;
  if (client === undefined) {
    const building = (async () => {
      // Read once per process, like the rest of the configuration; the secret itself is cached by Powertools for
      // SECRETS_MAX_AGE_SECONDS, so a rotated value is seen without a new client.
      const settings = readSettings(provider);
      return provider.createClient({
        settings,
        timeoutMs: config().UPSTREAM_TIMEOUT_MS,
        credentials: () => readCredentials(provider, settings),
        limiter: await limiterOf(provider as AnyProvider, settings),
      });
    })();
    // A configuration error is not kept: the next invocation reads the settings again.
    building.catch(() => clients.delete(provider));
    clients.set(provider, building);
    client = building;
  }
  return client;
};

/** For tests that change a provider's settings between cases. */
export const forgetClient = (provider: object): void => {
  clients.delete(provider);
};

/**
 * Imports a sandbox module by a computed URL: esbuild bundles only string-literal imports, so the simulators never
 * enter a Lambda bundle, while tsx and vitest load them as usual.
 */
export const sandboxAt =
  <Sandbox extends SandboxModule<unknown, SandboxOptions>>(url: URL) =>
  async (): Promise<Sandbox> => {
    const loaded: unknown = await import(url.href);
    if (typeof (loaded as Partial<SandboxModule> | null)?.startSandbox !== 'function')
      throw new Error(`${url.pathname} does not export startSandbox`);
    return loaded as Sandbox;
  };

/**
 * Fails with one message naming every variable a function of this provider needs in Lambda and lacks: its required
 * settings, and its secret (credentials must come from Secrets Manager there, never from plain variables).
 */
export const assertProviderConfigured = (provider: AnyProvider, env: NodeJS.ProcessEnv = process.env): void =>
  assertConfigured([...requiredSettings(provider), variable(provider, 'SECRET_ARN')], env);
