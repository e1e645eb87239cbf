/**
 * What API Gateway checks on each method before any function runs, as data: the one source the stack deploys
 * (infra/constructs/operation-service.ts, infra/stack.ts) and the local runner enforces (infra/local/api-gateway.ts).
 * Imports no CDK, so the runner does not load it.
 */
import { z } from 'zod';
import type { RouteDefinition } from '../../shared/http/routes.js';

/** A draft-04 JSON schema, as API Gateway models take them. */
export type Draft04Schema = Record<string, unknown> & { required?: string[] };

export interface BodyModel {
  /** The model's name in the API (letters and digits only, as API Gateway requires). */
  name: string;
  contentType: 'application/json';
  schema: Draft04Schema;
}

export interface MethodRequest {
  route: RouteDefinition;
  /** API Gateway's request parameters (`method.request.path.iccid`) and whether each is required. */
  parameters: Record<string, boolean>;
  /** The body model, for a route whose body has required fields; validation applies it by content type. */
  bodyModel?: BodyModel;
}

/** The API's one request validator: parameters and bodies. */
export const REQUEST_VALIDATOR = { validateRequestParameters: true, validateRequestBody: true } as const;

const modelName = (route: RouteDefinition): string =>
  `${route.name.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase())}Body`;

/**
 * An operation's required path parameters and optional query parameters come from its schemas, and its body model is
 * the body schema in draft-04 (no hand-written copy). A body with no required field gets no model: the handler
 * answers every other body mistake itself, naming the field (a gateway refusal cannot, see gateway-responses.ts).
 */
export const methodRequest = (route: RouteDefinition): MethodRequest => {
  const contract = route.operation;
  if (contract === undefined)
    return {
      route,
      parameters: Object.fromEntries((route.pathParameters ?? []).map((name) => [`method.request.path.${name}`, true])),
    };
  const parameters: Record<string, boolean> = {};
  for (const name of Object.keys(contract.request.path.shape)) parameters[`method.request.path.${name}`] = true;
  for (const name of Object.keys(contract.request.query.shape))
    parameters[`method.request.querystring.${name}`] = false;
  const body = contract.request.body;
  if (body === undefined) return { route, parameters };
  const schema = z.toJSONSchema(body, { target: 'draft-4', io: 'input' }) as Draft04Schema;
  if ((schema.required ?? []).length === 0) return { route, parameters };
  return { route, parameters, bodyModel: { name: modelName(route), contentType: 'application/json', schema } };
};
