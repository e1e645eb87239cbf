/**
 * Provider credentials. In AWS they come from Secrets Manager (`<PROVIDER>_SECRET_ARN`), read with
 * Powertools parameters and cached for SECRETS_MAX_AGE_SECONDS; locally from plain variables.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from './zod.js';
import type { ZodType } from './zod.js';
import { ConfigurationError, config } from './config.js';
import { ProblemError } from './errors.js';

export const readSecretJson = async <T>(secretArn: string, schema: ZodType<T>, what: string): Promise<T> => {
  let value: unknown;
  try {
    value = await getSecret(secretArn, { transform: 'json', maxAge: config().SECRETS_MAX_AGE_SECONDS });
  } catch (error) {
    // Fail closed and say why: without credentials nothing is sent to the provider.
    throw new ProblemError('dependency-unavailable', `The ${what} credentials could not be read from Secrets Manager, so the provider was not called. Retry later.`, {
      retryAfterSeconds: 5,
      cause: error,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // Name the missing keys, never the values.
    const keys = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new ConfigurationError(`The ${what} secret must be a JSON object with non-empty ${keys}`);
  }
  return parsed.data;
};

export const usernamePasswordSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

export const apiKeySchema = z.object({ apiKey: z.string().min(1) });

/**
 * A provider's API key: from its Secrets Manager secret (`{"apiKey"}`) when `secretArn` is set (AWS), else from the
 * plain variable (local runs). `settings` names both variables for the error.
 */
export const readApiKey = async (what: string, secretArn: string | undefined, plainKey: string | undefined, settings: [string, string]): Promise<string> => {
  if (secretArn !== undefined) return (await readSecretJson(secretArn, apiKeySchema, what)).apiKey;
  if (plainKey !== undefined) return plainKey;
  throw new ConfigurationError(`The ${what} API key is missing: set ${settings[0]}, or ${settings[1]}`);
};
