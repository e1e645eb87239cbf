/**
 * The built-in provider sandboxes of `npm start`: for each provider descriptor whose BASE_URL is not set, its sandbox
 * is started with ready-made records and the handlers are pointed at it. Nothing here names a provider.
 */
import { type AnyProvider, type RunningSandbox, variable } from '../../shared/providers/provider.js';

export interface StartedSandbox extends RunningSandbox {
  /** The provider descriptor's name. */
  provider: string;
  label: string;
  baseUrlVariable: string;
}

export const startSandboxes = async (
  env: NodeJS.ProcessEnv,
  providers: readonly AnyProvider[],
): Promise<StartedSandbox[]> => {
  const unconfigured = providers.filter(
    (provider) => env[variable(provider, 'BASE_URL')] === undefined || env[variable(provider, 'BASE_URL')] === '',
  );
  return Promise.all(
    unconfigured.map(async (provider) => {
      const running = await (await provider.sandbox()).startSandbox();
      for (const [setting, value] of Object.entries(running.settings)) env[variable(provider, setting)] = value;
      return {
        ...running,
        provider: provider.name,
        label: provider.label,
        baseUrlVariable: variable(provider, 'BASE_URL'),
      };
    }),
  );
};
