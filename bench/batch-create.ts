/**
 * The largest create (POST /v1/batches, MAX_ITEMS items) in the deployed shape, against the limits it has to fit: the
 * create-batch handler in a process of its own (a fresh container's first invocation), the batches table on DynamoDB
 * Local, and the items' messages over HTTP to the AWS stand-in (testkit/aws-recorder.ts, in this process) through
 * BATCH_QUEUE_URLS, as SendMessageBatch calls. For the largest realistic items of revoke-bundle and cancel-activation,
 * as JSON and as CSV: the body against API Gateway's 10 MB and the invocation (the proxy event) against Lambda's 6 MB,
 * the time to the 202 against the function's 28 s and where it goes, and the process's memory against its 512 MB.
 * Every valid item's message must arrive exactly once, or the bench fails.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { LOCAL_CALLER_ARN, lambdaContext, toApiGatewayEvent } from '../infra/local/apigw-event.js';
import { MAX_ITEMS } from '../shared/batches/model.js';
import { withLuhnCheckDigit } from '../shared/iccid.js';

/** The deployed function (infra/constructs/operation-function.ts) and the limits in front of it. */
const TIMEOUT_MS = 28_000;
const MEMORY_MB = 512;
const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
const GATEWAY_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB. */
const VCPU_AT_MEMORY = MEMORY_MB / 1769;

type Operation = 'revoke-bundle' | 'cancel-activation';
type Format = 'json' | 'csv';

export interface CreateSpec {
  operation: Operation;
  format: Format;
  /** `realistic`: the largest items a caller sends; `maximal`: every field at its limit. */
  fields: 'realistic' | 'maximal';
  items: number;
}

/** Every 50th item is invalid (a wrong check digit, an id with a space): counted, stored, never sent. */
const INVALID_EVERY = 50;

const rowsOf = (spec: CreateSpec): Array<Record<string, string>> =>
  Array.from({ length: spec.items }, (_, index): Record<string, string> => {
    const invalid = index % INVALID_EVERY === INVALID_EVERY - 1;
    const serial = String(index).padStart(7, '0');
    if (spec.operation === 'revoke-bundle') {
      const iccid = withLuhnCheckDigit(`894400000000${serial}`);
      return {
        iccid: invalid ? `${iccid.slice(0, -1)}${(Number(iccid.at(-1)) + 1) % 10}` : iccid,
        name: spec.fields === 'maximal' ? `esim_${'X'.repeat(123)}` : 'esim_20GB_30D_REUROPEPLUS_V2',
        type: 'transaction',
        refundToBalance: 'true',
        offerId: spec.fields === 'maximal' ? `o${'9'.repeat(127)}` : randomUUID(),
        allowEsimReturn: 'false',
      };
    }
    // sTN's ids are 16 characters (64 at most); the note is at its limit of 164 UTF-16 units (the maximal one in
    // three-byte UTF-8 characters).
    const id = spec.fields === 'maximal' ? `A${serial}`.padEnd(64, 'x') : `q7Lm${serial}Xw2Rg`;
    return {
      activationId: invalid ? `${id.slice(0, 8)} ${id.slice(9)}` : id,
      note:
        spec.fields === 'maximal'
          ? '€'.repeat(164)
          : `Reseller closed, ticket ${serial}: cancel before activation. `.padEnd(164, 'Customer asked twice. '),
    };
  });

const csvCell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** The request body, and the path it goes to (CSV names the operation in the query). */
export const requestOf = (spec: CreateSpec): { path: string; contentType: string; body: string } => {
  const rows = rowsOf(spec);
  if (spec.format === 'json')
    return {
      path: '/v1/batches',
      contentType: 'application/json',
      body: JSON.stringify({ operation: spec.operation, items: rows }),
    };
  const columns = Object.keys(rows[0] ?? {});
  return {
    path: `/v1/batches?operation=${spec.operation}`,
    contentType: 'text/csv',
    body: [columns.join(','), ...rows.map((row) => columns.map((column) => csvCell(row[column] ?? '')).join(','))]
      .join('\n')
      .concat('\n'),
  };
};

/** The REST proxy event API Gateway sends for the request, as Lambda receives it (the invocation's payload). */
const eventOf = (spec: CreateSpec, key: string): APIGatewayProxyEvent => {
  const request = requestOf(spec);
  return toApiGatewayEvent(
    {
      method: 'POST',
      url: request.path,
      headers: {
        host: 'abc123.execute-api.eu-west-1.amazonaws.com',
        'content-type': request.contentType,
        'idempotency-key': key,
        'user-agent': 'sim-cancel/0.1.0',
        'x-amz-date': '20260101T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIA.../20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: request.body,
      sourceIp: '203.0.113.10',
    },
    { resource: '/v1/batches', pathParameters: {} },
    LOCAL_CALLER_ARN,
  );
};

interface Call {
  command: string;
  start: number;
  end: number;
}

/** What the child (the function's container) measured of its one invocation. */
export interface Invocation {
  status: number;
  answer: { batchId?: string; total?: number; counts?: Record<string, number> };
  bodyBytes: number;
  payloadBytes: number;
  ms: number;
  cpuMs: number;
  phases: { validationMs: number; writesMs: number; messagesMs: number; restMs: number };
  /** Time with at least one such call in flight, during the messages' phase. */
  busyMs: { sqs: number; dynamodb: number };
  calls: Record<string, number>;
  memory: { rssBeforeMb: number; peakRssMb: number; heapBeforeMb: number; peakHeapMb: number };
}

/** Milliseconds covered by at least one of the intervals. */
const covered = (intervals: ReadonlyArray<{ start: number; end: number }>) => {
  let total = 0;
  let reach = -Infinity;
  for (const { start, end } of [...intervals].sort((a, b) => a.start - b.start)) {
    if (end <= reach) continue;
    total += end - Math.max(start, reach);
    reach = end;
  }
  return total;
};

const MB = 1024 * 1024;

/** How the child's AWS calls go: as they are, or with a round trip added and/or one at a time (the create before). */
export interface Shape {
  /** Added before each call, as AWS's network round trip (DynamoDB Local and the stand-in answer on loopback). */
  roundTripMs: number;
  /** Every DynamoDB and SQS call waits for the one before, as the create made them before they went in parallel. */
  oneAtATime: boolean;
}
const AS_IS: Shape = { roundTripMs: 0, oneAtATime: false };
/** A DynamoDB or SQS call's round trip within a region, roughly. */
const ROUND_TRIP_MS = 10;

/** In the child: one invocation of the real handler, with every AWS call it makes timed. */
const invokeOnce = async (spec: CreateSpec, key: string, shape: Shape): Promise<Invocation> => {
  const { documentClient } = await import('../shared/dynamodb.js');
  const { sqsClient } = await import('../shared/sqs.js');
  const { handler } = (await import('../functions/create-batch/index.js')) as unknown as {
    handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  };
  const calls: Call[] = [];
  let previous: Promise<unknown> = Promise.resolve();
  for (const client of [documentClient, sqsClient()] as Array<{ send: (...args: unknown[]) => Promise<unknown> }>) {
    const send = client.send.bind(client);
    const timed = async (args: unknown[]) => {
      const start = performance.now();
      try {
        if (shape.roundTripMs > 0) await new Promise((resolve) => setTimeout(resolve, shape.roundTripMs));
        return await send(...args);
      } finally {
        calls.push({ command: (args[0] as object).constructor.name, start, end: performance.now() });
      }
    };
    client.send = (...args: unknown[]) => {
      if (!shape.oneAtATime) return timed(args);
      const call = previous.then(() => timed(args));
      previous = call.catch(() => undefined);
      return call;
    };
  }
  const built = eventOf(spec, key);
  const payload = JSON.stringify(built);
  const bodyBytes = Buffer.byteLength(built.body ?? '');
  // As the runtime hands it over: parsed from the invocation's payload.
  const event = JSON.parse(payload) as APIGatewayProxyEvent;
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  // V8's own figure is cheap to read (process.memoryUsage() reads /proc each time, which would be measured too).
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)), 5);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await handler(event, lambdaContext('create-batch', TIMEOUT_MS));
  const end = performance.now();
  const cpuUsed = process.cpuUsage(cpu);
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const first = (name: string) => calls.find((call) => call.command === name);
  const firstCall = Math.min(...calls.map((call) => call.start));
  // The create's own writes end where reading its items back for their messages begins.
  const messagesFrom = first('QueryCommand')?.start ?? end;
  // Then the batch is read back for the answer (a GetItem): the rest.
  const lastMessageCall = Math.max(...calls.filter((call) => call.command !== 'GetCommand').map((call) => call.end));
  const during = calls.filter((call) => call.start >= messagesFrom && call.end <= lastMessageCall);
  return {
    status: result.statusCode,
    answer: JSON.parse(result.body) as Invocation['answer'],
    bodyBytes,
    payloadBytes: Buffer.byteLength(payload),
    ms: end - start,
    cpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
    phases: {
      validationMs: firstCall - start,
      writesMs: messagesFrom - firstCall,
      messagesMs: lastMessageCall - messagesFrom,
      restMs: end - lastMessageCall,
    },
    busyMs: {
      sqs: covered(during.filter((call) => call.command === 'SendMessageBatchCommand')),
      dynamodb: covered(during.filter((call) => call.command !== 'SendMessageBatchCommand')),
    },
    calls: calls.reduce<Record<string, number>>(
      (counts, call) => ({ ...counts, [call.command]: (counts[call.command] ?? 0) + 1 }),
      {},
    ),
    memory: {
      rssBeforeMb: before.rss / MB,
      // The container's high-water mark: what Lambda holds against the function's memory.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      heapBeforeMb: before.heapUsed / MB,
      peakHeapMb: peakHeap / MB,
    },
  };
};

const CHILD = 'BENCH_BATCH_CREATE_CHILD';
if (process.env[CHILD] !== undefined) {
  const { spec, key, shape } = JSON.parse(process.env[CHILD]) as { spec: CreateSpec; key: string; shape: Shape };
  const invocation = await invokeOnce(spec, key, shape);
  process.send?.(invocation, () => process.exit(0));
}

/** Runs one create in a fresh process (the container) with the environment the stack gives create-batch. */
const inContainer = (spec: CreateSpec, key: string, env: Record<string, string>, shape = AS_IS): Promise<Invocation> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/batch-create.ts'], {
      env: { ...process.env, ...env, [CHILD]: JSON.stringify({ spec, key, shape }) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let output = '';
    let answer: Invocation | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('message', (message) => (answer = message as Invocation));
    child.on('error', reject);
    child.on('exit', (code) =>
      answer === undefined
        ? reject(new Error(`the create's process ended (${code}) with no figure:\n${output}`))
        : resolve(answer),
    );
  });

export interface CreateFigure {
  spec: CreateSpec;
  invocation: Invocation;
  /** Valid items, and the messages the stand-in for SQS took for this batch (each index once). */
  runnable: number;
  messages: number;
}

export const measureBatchCreate = async (dynamoEndpoint: string, options: { items?: number } = {}) => {
  const items = options.items ?? MAX_ITEMS;
  const { startAwsRecorder } = await import('../testkit/aws-recorder.js');
  const { dynamoClient, ensureTables } = await import('../infra/local/dynamodb.js');
  const suffix = randomUUID();
  const tables = {
    IDEMPOTENCY_TABLE_NAME: `bench-create-idempotency-${suffix}`,
    OPERATIONS_TABLE_NAME: `bench-create-operations-${suffix}`,
    BATCHES_TABLE_NAME: `bench-create-batches-${suffix}`,
  };
  const client = dynamoClient(dynamoEndpoint);
  await ensureTables(client, {
    idempotency: tables.IDEMPOTENCY_TABLE_NAME,
    operations: tables.OPERATIONS_TABLE_NAME,
    batches: tables.BATCHES_TABLE_NAME,
  });
  client.destroy();
  const recorder = await startAwsRecorder({ dynamoEndpoint, secrets: {} });
  const queueUrl = (operation: string) => `${recorder.endpoint}/123456789012/sim-cancel-gateway-${operation}`;
  const env = {
    ...tables,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    BATCH_QUEUE_URLS: JSON.stringify({
      'revoke-bundle': queueUrl('revoke-bundle'),
      'cancel-activation': queueUrl('cancel-activation'),
    }),
  };
  /** One create in its own process, checked: a 202, and each valid item's message taken exactly once. */
  const measure = async (spec: CreateSpec, shape = AS_IS): Promise<CreateFigure> => {
    const from = recorder.sent.length;
    const invocation = await recorder.during('create-batch', () =>
      inContainer(spec, `bench-create-${randomUUID()}`, env, shape),
    );
    if (invocation.status !== 202)
      throw new Error(`create answered ${invocation.status}: ${JSON.stringify(invocation.answer)}`);
    const batchId = invocation.answer.batchId;
    const indexes = recorder.sent
      .slice(from)
      .map((message) => JSON.parse(message.body) as { batchItem: { batchId: string; index: number } })
      .filter((message) => message.batchItem.batchId === batchId)
      .map((message) => message.batchItem.index);
    const runnable = spec.items - (invocation.answer.counts?.invalid ?? 0);
    if (indexes.length !== runnable || new Set(indexes).size !== runnable)
      throw new Error(`${indexes.length} messages (${new Set(indexes).size} items) for ${runnable} valid items`);
    return { spec, invocation, runnable, messages: indexes.length };
  };
  const runs: CreateFigure[] = [];
  const roundTrips: Array<{ shape: Shape; figure: CreateFigure }> = [];
  try {
    // DynamoDB Local's BatchWriteItem and the stand-in are slow until their JIT has warmed up: one create first, unseen.
    await measure({ operation: 'revoke-bundle', format: 'json', fields: 'realistic', items: items / 2 });
    for (const fields of ['realistic', 'maximal'] as const)
      for (const operation of ['revoke-bundle', 'cancel-activation'] as const)
        for (const format of ['json', 'csv'] as const) runs.push(await measure({ operation, format, fields, items }));
    // With AWS's round trips, the calls in flight together against one at a time (as the create made them before).
    for (const oneAtATime of [true, false]) {
      const shape = { roundTripMs: ROUND_TRIP_MS, oneAtATime };
      const spec: CreateSpec = { operation: 'revoke-bundle', format: 'json', fields: 'realistic', items };
      roundTrips.push({ shape, figure: await measure(spec, shape) });
    }
  } finally {
    await recorder.stop();
  }
  return { items, runs, roundTrips };
};

export type BatchCreateFigure = Awaited<ReturnType<typeof measureBatchCreate>>;

export const BATCH_CREATE_HEADING = '## The largest batch create';

const mb = (bytes: number) => (bytes / MB).toFixed(2);
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;

/** The figure's section of docs/benchmarks.md. */
export const batchCreateSection = (figure: BatchCreateFigure): string[] => {
  const label = (spec: CreateSpec) =>
    `${spec.operation} ${spec.format === 'json' ? 'JSON' : 'CSV'}${spec.fields === 'maximal' ? ', every field at its limit' : ''}`;
  const worst = figure.runs.reduce((a, b) => (b.invocation.ms > a.invocation.ms ? b : a));
  const cpuBound = (run: CreateFigure) => run.invocation.ms + run.invocation.cpuMs * (1 / VCPU_AT_MEMORY - 1);
  return [
    `${BATCH_CREATE_HEADING}: ${figure.items.toLocaleString('en')} items, create-batch in its own process, DynamoDB Local, SQS over HTTP`,
    '',
    `POST /v1/batches as API Gateway hands it over: the create-batch handler in a fresh process (its first invocation), the batches table on DynamoDB Local, each valid item's message sent over HTTP (SendMessageBatch, through BATCH_QUEUE_URLS) to the AWS stand-in (testkit/aws-recorder.ts), which took each exactly once. Every ${INVALID_EVERY}th item is invalid. The largest realistic items: revoke-bundle with a 20-digit ICCID, a 28-character bundle name, \`type\`, \`refundToBalance=true\`, a 36-character \`offerId\` and \`allowEsimReturn\`; cancel-activation with a 16-character id and a note at its 164-unit limit. And every field at its limit: 128-character bundle names and offer ids; 64-character activation ids and notes of 164 three-byte characters. The invocation is the proxy event Lambda receives (the body escaped in it, headers and request context around it).`,
    '',
    '| items | body (MB) | of 10 MB | invocation (MB) | of 6 MB | to the 202 (s) | of 28 s | validation | item writes | messages | rest | SQS / DynamoDB busy in messages | calls | peak RSS (MB) | of 512 MB | growth RSS / heap (MB) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...figure.runs.map(({ spec, invocation: run }) => {
      const share = (ms: number) => pct(ms / run.ms);
      const calls = Object.entries(run.calls)
        .map(([command, count]) => `${count} ${command.replace(/Command$/, '')}`)
        .join(', ');
      return `| ${label(spec)} | ${mb(run.bodyBytes)} | ${pct(run.bodyBytes / GATEWAY_PAYLOAD_BYTES)} | ${mb(run.payloadBytes)} | **${pct(run.payloadBytes / LAMBDA_PAYLOAD_BYTES)}** | ${(run.ms / 1000).toFixed(2)} | **${pct(run.ms / TIMEOUT_MS)}** | ${share(run.phases.validationMs)} | ${share(run.phases.writesMs)} | ${share(run.phases.messagesMs)} | ${share(run.phases.restMs)} | ${pct(run.busyMs.sqs / run.phases.messagesMs)} / ${pct(run.busyMs.dynamodb / run.phases.messagesMs)} | ${calls} | ${run.memory.peakRssMb.toFixed(0)} | **${pct(run.memory.peakRssMb / MEMORY_MB)}** | ${(run.memory.peakRssMb - run.memory.rssBeforeMb).toFixed(0)} / ${(run.memory.peakHeapMb - run.memory.heapBeforeMb).toFixed(0)} |`;
    }),
    '',
    `Shares of the time to the 202: validation (parsing and validating every item, up to the first DynamoDB call), item writes (the batch's conditional meta write and its BatchWriteItem calls of 25, ITEM_WRITES_IN_FLIGHT at a time), messages (reading the items back 1,000 at a time, SendMessageBatch calls of 10, SENDS_IN_FLIGHT at a time, and the enqueue progress), rest (reading the batch back and answering). Peak RSS is the process's high-water mark, tsx's loader included (the deployed bundle has none); growth is from just before the invocation (the event parsed) to its peak.`,
    '',
    `CPU: the slowest (${label(worst.spec)}) used ${(worst.invocation.cpuMs / 1000).toFixed(2)} s of CPU in its ${(worst.invocation.ms / 1000).toFixed(2)} s here. At ${MEMORY_MB} MB Lambda gives ${VCPU_AT_MEMORY.toFixed(2)} vCPU: if that CPU time took ${(1 / VCPU_AT_MEMORY).toFixed(1)}x as long and overlapped nothing, the create would take ${(cpuBound(worst) / 1000).toFixed(1)} s, **${pct(cpuBound(worst) / TIMEOUT_MS)}** of the timeout. DynamoDB Local does not throttle: DynamoDB writes one partition key (a batch's items share its \`batchId\`) at most 1,000 write units a second, so ${figure.items.toLocaleString('en')} items of under 1 KB take at least ${(figure.items / 1000).toFixed(0)} s there, **${pct(figure.items / 1000 / (TIMEOUT_MS / 1000))}** of the timeout; BatchWriteItem then leaves items unprocessed, which go again after a backoff.`,
    '',
    `With a ${ROUND_TRIP_MS} ms round trip added before every DynamoDB and SQS call (about AWS's within a region; loopback has none), ${label(figure.roundTrips[0]?.figure.spec ?? worst.spec)}, the calls one at a time (as the create made them before, though with its pages of 1,000 items now) and in flight together (as shipped):`,
    '',
    '| calls | to the 202 (s) | of 28 s | item writes (s) | messages (s) |',
    '|---|---|---|---|---|',
    ...figure.roundTrips.map(
      ({ shape, figure: { invocation: run } }) =>
        `| ${shape.oneAtATime ? 'one at a time' : 'in flight together'} | ${(run.ms / 1000).toFixed(2)} | **${pct(run.ms / TIMEOUT_MS)}** | ${(run.phases.writesMs / 1000).toFixed(2)} | ${(run.phases.messagesMs / 1000).toFixed(2)} |`,
    ),
    '',
    `In flight together / one at a time: **${((figure.roundTrips[1]?.figure.invocation.ms ?? Number.NaN) / (figure.roundTrips[0]?.figure.invocation.ms ?? Number.NaN)).toFixed(2)}x**.`,
    '',
  ];
};
