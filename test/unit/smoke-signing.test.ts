/**
 * The smoke script's SigV4 signing, checked against AWS's published Signature Version 4 test suite ("get-vanilla"
 * and "post-x-www-form-urlencoded" style vectors use these credentials, date, region and service).
 */
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../scripts/smoke.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signingDate = new Date('2015-08-30T12:36:00Z');

describe('signRequest', () => {
  it('produces the signature of the AWS SigV4 test suite vector get-vanilla', async () => {
    const headers = await signRequest(
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} },
      { region: 'us-east-1', service: 'service', credentials, signingDate },
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs for execute-api with the body hash, query and session token of a real gateway call', async () => {
    const headers = await signRequest(
      {
        method: 'POST',
        url: new URL('https://abc.execute-api.eu-west-1.amazonaws.com/v1/v1/stn/activations/x/cancel?dryRun=true'),
        headers: { 'content-type': 'application/json' },
        body: '{}',
      },
      { region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'session' }, signingDate },
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('session');
  });
});
