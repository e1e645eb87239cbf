/**
 * `npm run smoke -- --url <api-url> [--region <region>]`: after a deploy, a dry run of every operation against the
 * deployed API, signed with SigV4 from the standard AWS credential chain. A dry run changes nothing anywhere. Then
 * the routes that are not operations (the OpenAPI document; an operation id nobody has: 404; the history, an eSIM's
 * timeline and the refund ledger: 200 pages; a one-item batch created, read, listed, cancelled and refused a confirm,
 * so nothing runs) and an unknown route,
 * which API Gateway answers itself: exact statuses, and bodies that parse as JSON.
 * Passes when each answer comes from the gateway and, where the dry run reads the provider, from the provider too
 * (200 validated, or 422 upstream-rejected: the provider answered, e.g. that the example eSIM is not yours).
 * Override an example with --input <operation>='<json>'.
 */
import { parseArgs } from 'node:util';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { operationRequest } from '../infra/requests.js';
import { contracts as operations } from '../shared/operations/contracts.js';

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Signs for API Gateway (`execute-api`); `signingDate` is fixed only by tests. */
export const signRequest = async (
  request: SignableRequest,
  options: {
    region: string;
    credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
    service?: string;
    signingDate?: Date;
  },
): Promise<Record<string, string>> => {
  // No x-amz-content-sha256 header: API Gateway does not need it, and without it the signature is the textbook one.
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: options.service ?? 'execute-api',
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      port: request.url.port === '' ? undefined : Number(request.url.port),
      path: request.url.pathname,
      query: Object.fromEntries(request.url.searchParams),
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    },
    { signingDate: options.signingDate },
  );
  return signed.headers;
};

export interface SmokeResult {
  operation: string;
  status: number;
  type: string;
  passed: boolean;
}

export const runSmoke = async (options: {
  url: string;
  region: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  inputs?: Record<string, Record<string, unknown>>;
}): Promise<SmokeResult[]> => {
  const base = options.url.replace(/\/+$/, '');
  const results: SmokeResult[] = [];
  for (const definition of operations) {
    const request = operationRequest(
      definition,
      { ...definition.example, ...options.inputs?.[definition.name] },
      { dryRun: true },
    );
    const url = new URL(`${base}${request.path}`);
    for (const [name, value] of Object.entries(request.query)) url.searchParams.set(name, value);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers = await signRequest(
      { method: request.method, url, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body },
      options,
    );
    const response = await fetch(url, { method: request.method, headers, body });
    const answer = (await response.json().catch(() => ({}))) as { status?: string; type?: string };
    const type = answer.type?.split('/').pop() ?? answer.status ?? '';
    results.push({
      operation: definition.name,
      status: response.status,
      type,
      passed:
        (response.status === 200 && answer.status === 'validated') ||
        (response.status === 422 && type === 'upstream-rejected'),
    });
  }
  // The routes that are not operations, and one answer API Gateway gives itself (an unknown route): exact statuses,
  // and every body must parse as JSON (a gateway response template that breaks JSON shows here).
  const signedGet = async (path: string) => {
    const url = new URL(`${base}${path}`);
    const response = await fetch(url, { headers: await signRequest({ method: 'GET', url, headers: {} }, options) });
    const text = await response.text();
    let body: { openapi?: string; type?: string; items?: unknown[]; nextCursor?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  };
  const checks: Array<[string, string, (answer: Awaited<ReturnType<typeof signedGet>>) => boolean]> = [
    [
      'openapi',
      '/v1/openapi.json',
      (answer) => answer.status === 200 && answer.body?.openapi?.startsWith('3.') === true,
    ],
    [
      'get-operation',
      `/v1/operations/op_${'0'.repeat(32)}`,
      (answer) => answer.status === 404 && answer.body?.type?.endsWith('/not-found') === true,
    ],
    // The history and the ledger: the caller's own, possibly empty, pages; the timeline of an eSIM nobody touched.
    [
      'list-operations',
      '/v1/operations?limit=1',
      (answer) => answer.status === 200 && Array.isArray(answer.body?.items) && 'nextCursor' in (answer.body ?? {}),
    ],
    [
      'esim-timeline',
      '/v1/esims/8944000000000000019/timeline',
      (answer) => answer.status === 200 && Array.isArray(answer.body?.items),
    ],
    [
      'refund-report',
      '/v1/reports/refunds?limit=1',
      (answer) => answer.status === 200 && Array.isArray(answer.body?.items),
    ],
    [
      'unknown route',
      '/v1/smoke-no-such-route',
      (answer) => answer.status === 404 && answer.body?.type?.endsWith('/not-found') === true,
    ],
  ];
  for (const [name, path, passed] of checks) {
    const answer = await signedGet(path);
    results.push({
      operation: name,
      status: answer.status,
      type: answer.body?.type?.split('/').pop() ?? (answer.body === undefined ? 'not JSON' : ''),
      passed: passed(answer),
    });
  }
  // The batch routes, without running anything: a one-item batch of the first operation's example is created (its
  // preview is a dry run), read, listed, cancelled, and then refused a confirm.
  const signedCall = async (method: string, path: string, body?: unknown) => {
    const url = new URL(`${base}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = await signRequest(
      {
        method,
        url,
        headers: {
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          'idempotency-key': `smoke-${Date.now()}`,
        },
        body: text,
      },
      options,
    );
    const response = await fetch(url, { method, headers, body: text });
    return { status: response.status, body: (await response.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const [first] = operations;
  const created = await signedCall('POST', '/v1/batches', {
    operation: first?.name,
    items: [{ ...first?.example, ...options.inputs?.[first?.name ?? ''] }],
  });
  const batchId = String(created.body?.batchId ?? 'b_none');
  const batchChecks: Array<[string, () => Promise<{ status: number; body: Record<string, unknown> }>, number]> = [
    ['create-batch', async () => created, 202],
    ['get-batch', () => signedCall('GET', `/v1/batches/${batchId}`), 200],
    ['batch-items', () => signedCall('GET', `/v1/batches/${batchId}/items`), 200],
    ['cancel-batch', () => signedCall('POST', `/v1/batches/${batchId}/cancel`), 200],
    ['confirm-batch', () => signedCall('POST', `/v1/batches/${batchId}/confirm`), 409],
  ];
  for (const [name, call, expected] of batchChecks) {
    const answer = await call();
    results.push({
      operation: name,
      status: answer.status,
      type:
        String(answer.body?.type ?? answer.body?.status ?? '')
          .split('/')
          .pop() ?? '',
      passed: answer.status === expected && answer.body !== undefined,
    });
  }
  return results;
};

const main = async () => {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, region: { type: 'string' }, input: { type: 'string', multiple: true } },
  });
  if (values.url === undefined)
    throw new Error(
      'Usage: npm run smoke -- --url https://<api-id>.execute-api.<region>.amazonaws.com/v1 [--region <region>]',
    );
  const region =
    values.region ??
    /execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(values.url)?.[1] ??
    process.env.AWS_REGION ??
    'us-east-1';
  const inputs = Object.fromEntries(
    (values.input ?? []).map((entry) => [
      entry.slice(0, entry.indexOf('=')),
      JSON.parse(entry.slice(entry.indexOf('=') + 1)) as Record<string, unknown>,
    ]),
  );
  const results = await runSmoke({ url: values.url, region, credentials: defaultProvider(), inputs });
  for (const result of results)
    process.stdout.write(
      `${result.passed ? 'ok  ' : 'FAIL'} ${result.operation.padEnd(18)} ${result.status} ${result.type}\n`,
    );
  const failed = results.filter((result) => !result.passed).length;
  process.stdout.write(`smoke: ${results.length - failed} passed, ${failed} failed\n`);
  if (failed > 0) process.exitCode = 1;
};

if (process.argv[1]?.endsWith('smoke.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
