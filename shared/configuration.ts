/**
 * The whole configuration schema: the settings every function shares and each provider's own, prefixed, read from
 * the provider descriptors. Tooling reads it (the local runner checks its environment with it, the docs list it); a
 * Lambda function reads only the common settings and its own provider's (shared/config.ts, shared/providers/provider.ts).
 */
import { ConfigurationError, commonSettings } from './config.js';
import { describeFieldErrors, fieldErrorsFromIssues } from './errors.js';
import { type AnyProvider, prefixedSettings } from './providers/provider.js';
import { providers as registered } from './providers/registry.js';
import * as z from './zod.js';

export const configurationSchema = (providers: readonly AnyProvider[] = registered) =>
  z.object({ ...commonSettings, ...Object.assign({}, ...providers.map(prefixedSettings)) });

/** Parses the environment against the whole schema; an invalid value fails with one message naming every bad variable. */
export const readConfiguration = (
  env: NodeJS.ProcessEnv = process.env,
  providers: readonly AnyProvider[] = registered,
): Record<string, unknown> => {
  const trimmed = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configurationSchema(providers).safeParse(trimmed);
  if (!parsed.success)
    throw new ConfigurationError(
      `Invalid configuration: ${describeFieldErrors(fieldErrorsFromIssues(parsed.error.issues, { root: 'configuration' }))}`,
    );
  return parsed.data;
};
