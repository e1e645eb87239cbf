/**
 * What the deployed API Gateway does before, or instead of, a function, for the local runner: routing by resource
 * and method, the payload limit, the request validator with each method's parameters (infra/gateway/method-requests.ts,
 * the source the stack deploys), and API Gateway's own answers rendered from the deployed templates
 * (infra/gateway/gateway-responses.ts). IAM authentication is the one step it leaves out: every
 * local request is the local developer's. Written by hand because nothing maintained simulates a REST API's
 * validation without Docker; test/e2e/api-gateway-fidelity.test.ts holds it to an independent reading of the template.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteDefinition } from '../../shared/http/routes.js';
import {
  type GatewayError,
  type RenderedGatewayResponse,
  gatewayErrors,
  gatewayResponses,
  renderGatewayResponse,
} from '../gateway/gateway-responses.js';
import { REQUEST_VALIDATOR, methodRequest } from '../gateway/method-requests.js';
import { type RouteMatch, matchResource } from './apigw-event.js';

/** API Gateway's payload limit for REST APIs; the handlers enforce the contract's smaller one. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface GatewayRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Undefined when it was over MAX_REQUEST_BYTES (and not kept). */
  body: string | undefined;
}

export type Admission<Route> = { route: Route; match: RouteMatch } | { refused: RenderedGatewayResponse };

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(',') : value;
};

/** `method.request.path.iccid` → the value the request carries there, if any. */
const parameterValue = (name: string, match: RouteMatch, url: URL, headers: IncomingHttpHeaders) => {
  const [, , location = '', parameter = ''] = name.split('.', 4);
  if (location === 'path') return match.pathParameters[parameter];
  if (location === 'querystring') return url.searchParams.get(parameter) ?? undefined;
  if (location === 'header') return header(headers, parameter);
  return undefined;
};

export const createApiGateway = <Route extends { route: RouteDefinition }>(entries: readonly Route[]) => {
  const methods = entries.map((entry) => ({ entry, request: methodRequest(entry.route) }));
  const refuse = (error: GatewayError) => ({ refused: renderGatewayResponse(gatewayResponses, error) });

  return {
    /** Routes the request and validates it as the deployed API would, or gives API Gateway's own answer. */
    admit(request: GatewayRequest): Admission<Route> {
      if (request.body === undefined) return refuse(gatewayErrors.tooLarge());
      const url = new URL(request.url, 'http://local');
      for (const { entry, request: method } of methods) {
        const match = entry.route.method === request.method ? matchResource(entry.route.path, url.pathname) : undefined;
        if (match === undefined) continue;
        if (REQUEST_VALIDATOR.validateRequestParameters) {
          const missing = Object.entries(method.parameters)
            .filter(([name, required]) => required && (parameterValue(name, match, url, request.headers) ?? '') === '')
            .map(([name]) => name.split('.').at(-1) as string);
          if (missing.length > 0) return refuse(gatewayErrors.missingParameters(missing));
        }
        // No body check: no method has a body model (method-requests.ts says why), and the fidelity test fails if the
        // template ever has one.
        return { route: entry, match };
      }
      return refuse(gatewayErrors.noRoute());
    },
  };
};
