/**
 * What a synthesized function's role grants, read from the CloudFormation template: its statements with resources
 * resolved to comparable strings (`arn:<LogicalId>` for a resource of the stack, `*`, or the literal text), its managed
 * policies, and which stack resource each of its environment variables names.
 */
type Json = Record<string, unknown>;
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Json }>;
}

export interface Statement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
  /**
   * `ForAllValues:StringLike` on `dynamodb:LeadingKeys`: the partition key values the statement allows (`*` a
   * wildcard). The one condition the stack uses; any other makes the reader throw rather than guess.
   */
  leadingKeys?: string[];
}

const LEADING_KEYS = 'dynamodb:LeadingKeys';

/** The statement's partition key patterns, or undefined without a condition. */
const leadingKeysOf = (condition: unknown): string[] | undefined => {
  if (condition === undefined) return undefined;
  const operators = Object.entries(condition as Record<string, Record<string, unknown>>);
  const [operator, keys] = operators[0] ?? [];
  if (
    operators.length !== 1 ||
    operator !== 'ForAllValues:StringLike' ||
    Object.keys(keys ?? {}).join() !== LEADING_KEYS
  )
    throw new Error(`role-policy: a statement has a condition other than ForAllValues:StringLike ${LEADING_KEYS}`);
  return list((keys as Record<string, string | string[]>)[LEADING_KEYS]);
};

/** Resource types whose Ref is their ARN (a table's is its name, a queue's its URL, a bus's its name). */
const REF_IS_ARN = new Set(['AWS::SecretsManager::Secret', 'AWS::SNS::Topic', 'AWS::IAM::ManagedPolicy']);

/** A template value as a string, or undefined for AWS::NoValue (CDK puts it where a table has no indexes). */
export const resolve = (template: Template, value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  const node = value as Json;
  if (typeof node.Ref === 'string') {
    if (node.Ref === 'AWS::NoValue') return undefined;
    if (node.Ref.startsWith('AWS::')) return `\${${node.Ref}}`;
    return REF_IS_ARN.has(template.Resources[node.Ref]?.Type ?? '') ? `arn:${node.Ref}` : `ref:${node.Ref}`;
  }
  const getAtt = node['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt !== undefined) return getAtt[1] === 'Arn' ? `arn:${getAtt[0]}` : `${getAtt[0]}.${getAtt[1]}`;
  const join = node['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map((part) => resolve(template, part) ?? '').join(join[0]);
  throw new Error(`role-policy: cannot resolve ${JSON.stringify(value)}`);
};

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The function's logical id, found by its description (OperationFunction sets it from the route's summary). */
export const functionId = (template: Template, description: string): string => {
  const found = Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Properties?.Description === description,
  );
  if (found.length !== 1) throw new Error(`role-policy: ${found.length} functions described "${description}"`);
  return (found[0] as [string, unknown])[0];
};

const roleId = (template: Template, fn: string): string =>
  (template.Resources[fn]?.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

/** Every statement of the function's role: its inline policies and the AWS::IAM::Policy resources attached to it. */
export const roleStatements = (template: Template, fn: string): Statement[] => {
  const role = roleId(template, fn);
  const inline = list(template.Resources[role]?.Properties?.Policies as Array<{ PolicyDocument: Json }> | undefined);
  const attached = Object.values(template.Resources).filter(
    (resource) =>
      resource.Type === 'AWS::IAM::Policy' &&
      list(resource.Properties?.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === role),
  );
  const documents = [...inline, ...attached.map((policy) => policy.Properties as { PolicyDocument: Json })];
  return documents.flatMap((document) =>
    list(document.PolicyDocument.Statement as Json[]).map((statement) => {
      for (const unsupported of ['NotAction', 'NotResource'])
        if (statement[unsupported] !== undefined) throw new Error(`role-policy: a statement has ${unsupported}`);
      const leadingKeys = leadingKeysOf(statement.Condition);
      return {
        effect: statement.Effect as Statement['effect'],
        actions: list(statement.Action as string | string[]),
        resources: list(statement.Resource).flatMap((resource) => list(resolve(template, resource))),
        ...(leadingKeys === undefined ? {} : { leadingKeys }),
      };
    }),
  );
};

/** The managed policies attached to the function's role, by their ARN's last segment (AWSLambdaBasicExecutionRole). */
export const managedPolicies = (template: Template, fn: string): string[] =>
  list(template.Resources[roleId(template, fn)]?.Properties?.ManagedPolicyArns as unknown[]).map(
    (arn) => resolve(template, arn)?.split('/').at(-1) ?? '',
  );

/** The stack resource an environment variable of the function names (`arn:<LogicalId>`), or undefined for a literal. */
export const variableResource = (
  template: Template,
  fn: string,
  variable: string,
  /** For a JSON object variable (`{"<key>": <Ref>}`, CDK's toJsonString): the key whose value names the resource. */
  key?: string,
): string | undefined => {
  const variables = (template.Resources[fn]?.Properties?.Environment as { Variables: Json }).Variables;
  let value = variables[variable] as Json | string | undefined;
  if (key !== undefined && value !== undefined && typeof value !== 'string') {
    const parts = ((value['Fn::Join'] as [string, Array<Json | string>] | undefined)?.[1] ?? []) as Array<
      Json | string
    >;
    const at = parts.findIndex((part) => typeof part === 'string' && part.endsWith(`"${key}":"`));
    value = at < 0 ? undefined : parts[at + 1];
  }
  if (value === undefined || typeof value === 'string') return undefined;
  const id = (value.Ref as string | undefined) ?? (value['Fn::GetAtt'] as [string, string] | undefined)?.[0];
  return id === undefined ? undefined : `arn:${id}`;
};

/** The queues the function's event source mappings consume (`arn:<LogicalId>`). */
export const consumedQueues = (template: Template, fn: string): string[] =>
  Object.values(template.Resources)
    .filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::EventSourceMapping' &&
        (resource.Properties?.FunctionName as { Ref?: string }).Ref === fn,
    )
    .flatMap((mapping) => list(resolve(template, mapping.Properties?.EventSourceArn)));

/** Whether the function has active X-Ray tracing (its role then needs the X-Ray write actions). */
export const activeTracing = (template: Template, fn: string): boolean =>
  (template.Resources[fn]?.Properties?.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active';

/** IAM's wildcards: `*` any run of characters, `?` any one. */
export const matches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);
