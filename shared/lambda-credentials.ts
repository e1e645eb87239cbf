/**
 * Stands in for `@aws-sdk/credential-provider-node` inside the Lambda bundles (an esbuild alias, see
 * infra/bundling.ts). Lambda hands every function its role's credentials in environment variables, so the default
 * chain's other sources (SSO, shared ini files, credential_process, web identity, container and instance metadata)
 * and the STS/SSO clients they carry are about 130 kB of every bundle that would be parsed on each cold start and
 * never run. Tests, scripts and the local runner do not go through the alias and keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** Same name and call shape as the default chain the SDK clients import. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> => fromEnv(init);
