/**
 * A stand-in for the AWS endpoints a function calls, over real HTTP (point AWS_ENDPOINT_URL_<SERVICE> at it), that
 * records every call as the IAM action it needs and the resource it acts on, per function. DynamoDB calls are
 * forwarded unchanged to DynamoDB Local; EventBridge PutEvents, SQS SendMessage and Secrets Manager GetSecretValue are
 * answered here as AWS answers them. Functions run in-process, so a call belongs to the function marked active
 * (`during`); a call while none is (a write after its invocation returned) is refused and kept in `unattributed`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardRequest } from './forward.js';

export interface AwsCall {
  /** IAM service prefix: dynamodb, events, sqs, secretsmanager. */
  service: string;
  /** IAM action without the prefix: PutItem, PutEvents, SendMessage, GetSecretValue. */
  action: string;
  /** What the call names: a table name (`<table>/index/<name>` for an index), a bus name, a queue URL, a secret ARN. */
  resource: string;
  /** A single-item DynamoDB call's partition key value (its Key's first attribute), for `dynamodb:LeadingKeys`. */
  leadingKey?: string;
}

export interface AwsRecorderOptions {
  dynamoEndpoint: string;
  /** SecretString by secret id (ARN), as GetSecretValue returns it. */
  secrets: Record<string, string>;
}

type Body = Record<string, unknown>;

/**
 * The IAM actions one DynamoDB request needs, per table. A transaction has no action of its own: IAM checks each of
 * its items as the single-item call it performs.
 */
const dynamoCalls = (action: string, body: Body): AwsCall[] => {
  const call = (itemAction: string, table: unknown, key?: unknown): AwsCall => {
    const first = Object.values((key ?? {}) as Record<string, Record<string, unknown>>)[0];
    const leadingKey = first === undefined ? undefined : Object.values(first)[0];
    return {
      service: 'dynamodb',
      action: itemAction,
      resource: String(table),
      ...(typeof leadingKey === 'string' ? { leadingKey } : {}),
    };
  };
  const items = (body.TransactItems ?? []) as Array<Record<string, { TableName?: string; Key?: unknown }>>;
  if (action === 'TransactWriteItems' || action === 'TransactGetItems') {
    const itemActions: Record<string, string> = {
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      ConditionCheck: 'ConditionCheckItem',
      Get: 'GetItem',
    };
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, operation]) =>
        call(itemActions[kind] ?? kind, operation.TableName, operation.Key),
      ),
    );
  }
  if (action === 'BatchGetItem' || action === 'BatchWriteItem')
    return Object.keys((body.RequestItems ?? {}) as Body).map((table) => call(action, table));
  // A Query or Scan of an index needs the action on the index's ARN (`<table ARN>/index/<name>`), not the table's.
  if (typeof body.IndexName === 'string') return [call(action, `${String(body.TableName)}/index/${body.IndexName}`)];
  return [call(action, body.TableName ?? '*', body.Key)];
};

/** SQS's MD5 of message attributes, by its documented encoding: sorted names; lengths as 4-byte big-endian. */
const md5OfAttributes = (
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>,
) => {
  const hash = createHash('md5');
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType, StringValue, BinaryValue } = attributes[name] as (typeof attributes)[string];
    field(Buffer.from(name));
    field(Buffer.from(DataType));
    const binary = DataType.startsWith('Binary');
    hash.update(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(BinaryValue ?? '', 'base64') : Buffer.from(StringValue ?? ''));
  }
  return hash.digest('hex');
};

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

export const startAwsRecorder = async (options: AwsRecorderOptions) => {
  const calls = new Map<string, AwsCall[]>();
  const unattributed: AwsCall[] = [];
  /** Messages sent with SendMessage or SendMessageBatch, in order (a test delivers them on as the queue would). */
  const sent: Array<{ queueUrl: string; body: string }> = [];
  /** Picks the SendMessageBatch calls (numbered from 1) answered with every entry failed (failSendMessageBatch). */
  let failBatch: ((call: number) => boolean) | undefined;
  let batchCalls = 0;
  let active: string | undefined;
  let inFlight = 0;

  const answer = (response: ServerResponse, status: number, protocol: string, body: unknown) => {
    response.writeHead(status, { 'content-type': `application/x-amz-json-${protocol}` });
    response.end(JSON.stringify(body));
  };

  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const raw = await readBody(request);
    const body = (raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'))) as Body;
    const [prefix = '', action = ''] = String(request.headers['x-amz-target']).split('.');
    const recorded: AwsCall[] =
      prefix === 'DynamoDB_20120810'
        ? dynamoCalls(action, body)
        : prefix === 'AWSEvents'
          ? ((body.Entries ?? []) as Array<{ EventBusName?: string }>).map((entry) => ({
              service: 'events',
              action,
              resource: entry.EventBusName ?? 'default',
            }))
          : prefix === 'AmazonSQS'
            ? // SendMessageBatch needs sqs:SendMessage (IAM has no action of its own for it).
              [
                {
                  service: 'sqs',
                  action: action === 'SendMessageBatch' ? 'SendMessage' : action,
                  resource: String(body.QueueUrl),
                },
              ]
            : prefix === 'secretsmanager'
              ? [{ service: 'secretsmanager', action, resource: String(body.SecretId) }]
              : [{ service: prefix, action, resource: '?' }];
    if (active === undefined) {
      unattributed.push(...recorded);
      // Not retried by the SDK: the caller sees the failure at once, and the test sees `unattributed`.
      return answer(response, 400, '1.1', {
        __type: 'AccessDeniedException',
        message: 'aws-recorder: a call while no function is active cannot be attributed',
      });
    }
    calls.set(active, [...(calls.get(active) ?? []), ...recorded]);
    // DynamoDB Local answers; the request goes as it came.
    if (prefix === 'DynamoDB_20120810') return forwardRequest(options.dynamoEndpoint, request, raw, response);
    if (prefix === 'AWSEvents' && action === 'PutEvents')
      return answer(response, 200, '1.1', {
        FailedEntryCount: 0,
        Entries: recorded.map(() => ({ EventId: randomUUID() })),
      });
    if (prefix === 'AmazonSQS' && action === 'SendMessage') {
      sent.push({ queueUrl: String(body.QueueUrl), body: String(body.MessageBody) });
      const attributes = body.MessageAttributes as Parameters<typeof md5OfAttributes>[0] | undefined;
      // The SDK checks MD5OfMessageBody (middleware-sdk-sqs); the attributes' digest is what SQS would send too.
      return answer(response, 200, '1.0', {
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5').update(String(body.MessageBody)).digest('hex'),
        ...(attributes === undefined ? {} : { MD5OfMessageAttributes: md5OfAttributes(attributes) }),
      });
    }
    if (prefix === 'AmazonSQS' && action === 'SendMessageBatch') {
      const entries = (body.Entries ?? []) as Array<{ Id: string; MessageBody: string }>;
      batchCalls += 1;
      if (failBatch?.(batchCalls) === true)
        // As SQS answers entries it did not take: a 200 listing them as failed (the SDK does not retry those).
        return answer(response, 200, '1.0', {
          Successful: [],
          Failed: entries.map((entry) => ({
            Id: entry.Id,
            SenderFault: false,
            Code: 'InternalError',
            Message: 'aws-recorder: failed as the test asked',
          })),
        });
      for (const entry of entries) sent.push({ queueUrl: String(body.QueueUrl), body: entry.MessageBody });
      return answer(response, 200, '1.0', {
        Successful: entries.map((entry) => ({
          Id: entry.Id,
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'),
        })),
        Failed: [],
      });
    }
    const secret = options.secrets[String(body.SecretId)];
    if (prefix === 'secretsmanager' && action === 'GetSecretValue' && secret !== undefined)
      return answer(response, 200, '1.1', {
        ARN: body.SecretId,
        Name: String(body.SecretId).split(':').at(-1),
        SecretString: secret,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    return answer(response, 400, '1.1', {
      __type: 'ResourceNotFoundException',
      message: `aws-recorder answers no ${prefix}.${action} for ${JSON.stringify(recorded)}`,
    });
  };

  const server = createServer((request, response) => {
    inFlight += 1;
    response.on('close', () => (inFlight -= 1));
    serve(request, response).catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** Lets the requests a function's work started reach the server and finish before the next function runs. */
  const settle = async () => {
    do await new Promise((resolve) => setTimeout(resolve, 5));
    while (inFlight > 0);
  };

  return {
    endpoint,
    /** Calls arriving while `work` runs (and until they finish) are `functionName`'s. One function at a time. */
    during: async <T>(functionName: string, work: () => Promise<T>): Promise<T> => {
      if (active !== undefined) throw new Error(`aws-recorder: ${functionName} started while ${active} is active`);
      await settle();
      active = functionName;
      try {
        return await work();
      } finally {
        await settle();
        active = undefined;
      }
    },
    callsOf: (functionName: string): AwsCall[] => calls.get(functionName) ?? [],
    /** Calls that arrived while no function was active. */
    unattributed,
    sent,
    /**
     * From now on, answers the SendMessageBatch calls `fail` picks (numbered from 1 in arrival order) with every entry
     * failed, none taken (nor in `sent`); `undefined` takes every call again.
     */
    failSendMessageBatch: (fail: ((call: number) => boolean) | undefined): void => {
      failBatch = fail;
      batchCalls = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

export type AwsRecorder = Awaited<ReturnType<typeof startAwsRecorder>>;
