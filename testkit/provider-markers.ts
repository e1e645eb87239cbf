/** Strings only one provider's client contains: how the synth test and the bench tell which clients a bundle carries. */
export const PROVIDER_MARKERS = {
  'cancel-esim': '/v1/auth/token',
  'revoke-bundle': 'includeUsed',
  'cancel-activation': 'CancelNewSubscription',
} as const;

/** The functions whose provider client a bundle carries (by its markers). */
export const providerClientsIn = (bundle: string): string[] =>
  Object.entries(PROVIDER_MARKERS)
    .filter(([, marker]) => bundle.includes(marker))
    .map(([name]) => name);
