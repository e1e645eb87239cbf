/**
 * What API Gateway checks on each method before any function runs, as data: the one source the stack deploys
 * (infra/constructs/operation-service.ts, infra/stack.ts) and the local runner enforces (infra/local/api-gateway.ts).
 * Imports no CDK, so the runner does not load it.
 */
import type { RouteDefinition } from '../../shared/http/routes.js';

export interface MethodRequest {
  route: RouteDefinition;
  /** API Gateway's request parameters (`method.request.path.iccid`) and whether each is required. */
  parameters: Record<string, boolean>;
}

/**
 * The API's one request validator. It checks bodies only against a method's models, and no method has one: a body
 * refused by an API Gateway model gets `Invalid request body` and nothing more (a gateway response cannot carry the
 * validator's message safely: it is unescaped, see gateway-responses.ts), so it could not name the field, and it
 * would answer 400 where the contract says 415 (not JSON) or 413 (over 16 KiB). The function validates every body
 * from the contract's schema and names each wrong field, as it must for queue messages and events anyway, which no
 * API Gateway checks.
 */
export const REQUEST_VALIDATOR = { validateRequestParameters: true, validateRequestBody: true } as const;

/** An operation's required path parameters and optional query parameters come from its schemas. */
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
  return { route, parameters };
};
