/** Configuration fails early and names what is missing. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, assertConfigured, readConfig, resetConfigCache } from '../../shared/config.js';
import { readConfiguration } from '../../shared/configuration.js';

describe('configuration', () => {
  afterEach(() => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    delete process.env.STN_BASE_URL;
    resetConfigCache();
  });

  it('uses the contract defaults', () => {
    // The whole schema, with the providers' settings from their descriptors (STN_BASE_URL has no default).
    expect(() => readConfiguration({})).toThrow(/STN_BASE_URL/);
    expect(readConfiguration({ STN_BASE_URL: 'https://partner.example' })).toMatchObject({
      MONOGOTO_BASE_URL: 'https://api.monogoto.io',
      ESIM_GO_BASE_URL: 'https://api.esim-go.com/v2.4',
      UPSTREAM_TIMEOUT_MS: 8000,
      IDEMPOTENCY_TTL_SECONDS: 86400,
      ICCID_CHECKSUM: 'on',
    });
    expect(readConfig({})).toMatchObject({
      UPSTREAM_TIMEOUT_MS: 8000,
      IDEMPOTENCY_TTL_SECONDS: 86400,
      ICCID_CHECKSUM: 'on',
    });
  });

  it('names every invalid variable in one error', () => {
    expect(() => readConfig({ UPSTREAM_TIMEOUT_MS: 'soon', ICCID_CHECKSUM: 'maybe' })).toThrow(
      /UPSTREAM_TIMEOUT_MS.*ICCID_CHECKSUM|ICCID_CHECKSUM.*UPSTREAM_TIMEOUT_MS/,
    );
  });

  it('names missing required settings', () => {
    expect(() => assertConfigured(['STN_BASE_URL'], {})).toThrow(
      new ConfigurationError('Missing configuration: STN_BASE_URL must be set'),
    );
  });

  it('fails the sTN handler at init in Lambda when STN_BASE_URL is missing', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'cancel-activation';
    resetConfigCache();
    await expect(import('../../functions/cancel-activation/index.js')).rejects.toThrow(
      /Missing configuration: STN_BASE_URL, STN_SECRET_ARN must be set/,
    );
  });
});
