/** The providers whose client a bundle carries, told by each descriptor's `clientMarker`. */
import { providers } from '../shared/providers/registry.js';

export const PROVIDER_MARKERS: Readonly<Record<string, string>> = Object.fromEntries(
  providers.map((provider) => [provider.name, provider.clientMarker]),
);

/** The providers whose client a bundle carries (by their markers). */
export const providerClientsIn = (bundle: string): string[] =>
  Object.entries(PROVIDER_MARKERS)
    .filter(([, marker]) => bundle.includes(marker))
    .map(([name]) => name);
