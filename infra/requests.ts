/** Builds the HTTP request for an operation's input from its definition: path, query and body by location. */
import type { OperationContract } from '../shared/operations/definition.js';

export interface OperationRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

/** Query and path values go on the wire as strings; `false`/default values are left out. */
export const operationRequest = (
  definition: OperationContract,
  input: Record<string, unknown>,
  options: { dryRun?: boolean } = {},
): OperationRequest => {
  let path = definition.route.path;
  for (const name of Object.keys(definition.request.path.shape))
    path = path.replace(`{${name}}`, encodeURIComponent(String(input[name])));
  const query: Record<string, string> = {};
  for (const name of Object.keys(definition.request.query.shape)) {
    const value = input[name];
    if (value !== undefined && value !== false && !(name === 'type' && value === 'transaction'))
      query[name] = String(value);
  }
  if (options.dryRun === true) query.dryRun = 'true';
  const bodyFields = definition.request.body === undefined ? [] : Object.keys(definition.request.body.shape);
  const body =
    bodyFields.length === 0
      ? undefined
      : Object.fromEntries(bodyFields.filter((name) => input[name] !== undefined).map((name) => [name, input[name]]));
  return { method: definition.route.method, path, query, body };
};
