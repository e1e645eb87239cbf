/**
 * What the deployed API Gateway does before, or instead of, a function, for the local runner: routing by resource
 * and method, the payload limit, the request validator with each method's parameters and draft-04 body model
 * (infra/gateway/method-requests.ts, the source the stack deploys), and API Gateway's own answers rendered from the
 * deployed templates (infra/gateway/gateway-responses.ts). IAM authentication is the one step it leaves out: every
 * local request is the local developer's. Written by hand because nothing maintained simulates a REST API's
 * validation without Docker; test/e2e/api-gateway-fidelity.test.ts holds it to an independent reading of the template.
 */
import type { IncomingHttpHeaders } from 'node:http';
import AjvDraft04Module from 'ajv-draft-04';
import type { RouteDefinition } from '../../shared/http/routes.js';
import {
  type GatewayError,
  type RenderedGatewayResponse,
  gatewayErrors,
  gatewayResponses,
  renderGatewayResponse,
} from '../gateway/gateway-responses.js';
import { type MethodRequest, REQUEST_VALIDATOR, methodRequest } from '../gateway/method-requests.js';
import { type RouteMatch, matchResource } from './apigw-event.js';

// The package is CommonJS with `exports.default`: NodeNext types its default import as the module object.
const AjvDraft04 = AjvDraft04Module.default;

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

/**
 * The body check as API Gateway applies it: the model for the request's media type (API Gateway takes a missing
 * Content-Type as application/json; another type with no model is not validated), an empty body validated as `{}`,
 * and a body that is not JSON refused like one that breaks the model.
 */
const bodyRefused = (method: CompiledMethod, request: GatewayRequest): boolean => {
  if (method.validateBody === undefined || method.request.bodyModel === undefined) return false;
  const mediaType = (header(request.headers, 'content-type') ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== method.request.bodyModel.contentType) return false;
  const text = request.body ?? '';
  let body: unknown;
  try {
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return true;
  }
  return !method.validateBody(body);
};

interface CompiledMethod {
  request: MethodRequest;
  validateBody: ((body: unknown) => boolean) | undefined;
}

export const createApiGateway = <Route extends { route: RouteDefinition }>(entries: readonly Route[]) => {
  const ajv = new AjvDraft04({ strict: false });
  const methods = entries.map((entry) => {
    const request = methodRequest(entry.route);
    const model = request.bodyModel;
    return {
      entry,
      compiled: {
        request,
        validateBody: model === undefined ? undefined : (body: unknown) => ajv.validate(model.schema, body) === true,
      } satisfies CompiledMethod,
    };
  });
  const refuse = (error: GatewayError) => ({ refused: renderGatewayResponse(gatewayResponses, error) });

  return {
    /** Routes the request and validates it as the deployed API would, or gives API Gateway's own answer. */
    admit(request: GatewayRequest): Admission<Route> {
      if (request.body === undefined) return refuse(gatewayErrors.tooLarge());
      const url = new URL(request.url, 'http://local');
      for (const { entry, compiled } of methods) {
        const match = entry.route.method === request.method ? matchResource(entry.route.path, url.pathname) : undefined;
        if (match === undefined) continue;
        if (REQUEST_VALIDATOR.validateRequestParameters) {
          const missing = Object.entries(compiled.request.parameters)
            .filter(([name, required]) => required && (parameterValue(name, match, url, request.headers) ?? '') === '')
            .map(([name]) => name.split('.').at(-1) as string);
          if (missing.length > 0) return refuse(gatewayErrors.missingParameters(missing));
        }
        if (REQUEST_VALIDATOR.validateRequestBody && bodyRefused(compiled, request))
          return refuse(gatewayErrors.invalidBody());
        return { route: entry, match };
      }
      return refuse(gatewayErrors.noRoute());
    },
  };
};
