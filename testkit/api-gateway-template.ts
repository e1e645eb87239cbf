/**
 * An independent reading of what a synthesized template's REST API does before any function runs: its resource tree,
 * each method's required parameters, request models and validator, and its gateway responses, rendered as API Gateway
 * renders them. It shares no code with the stack or the local runner (another draft-04 validator, its own wording of
 * API Gateway's messages), so the local runner can be held to it (test/e2e/api-gateway-fidelity.test.ts).
 */
import { Validator } from '@cfworker/json-schema';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };

export interface TemplateRequest {
  method: string;
  /** Path and query, e.g. /v1/esims/89.../cancel?dryRun=true */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type TemplateVerdict =
  { refused: { status: number; contentType: string | undefined; body: string } } | { integration: string };

/** API Gateway's own words (`$context.error.message`) and statuses, from its documentation and answers. */
const API_GATEWAY_SAYS = {
  MISSING_AUTHENTICATION_TOKEN: [403, 'Missing Authentication Token'],
  BAD_REQUEST_BODY: [400, 'Invalid request body'],
  REQUEST_TOO_LARGE: [413, 'Request Too Long'],
} as const;
const REST_API_PAYLOAD_LIMIT = 10 * 1024 * 1024;

const logicalId = (reference: unknown): string => {
  const value = reference as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (value.Ref !== undefined) return value.Ref;
  if (value['Fn::GetAtt']?.[1] === 'RootResourceId') return `${value['Fn::GetAtt'][0]}/`;
  throw new Error(`not a reference: ${JSON.stringify(reference)}`);
};

export const readApiGateway = (template: Template) => {
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
  const pathOf = (id: string): string => {
    if (id.endsWith('/')) return '';
    const resource = template.Resources[id] as Resource;
    return `${pathOf(logicalId(resource.Properties.ParentId))}/${String(resource.Properties.PathPart)}`;
  };
  const methods = ofType('AWS::ApiGateway::Method').map(([, method]) => {
    const properties = method.Properties;
    const validatorId =
      properties.RequestValidatorId === undefined ? undefined : logicalId(properties.RequestValidatorId);
    const validator = validatorId === undefined ? undefined : template.Resources[validatorId]?.Properties;
    const models = Object.entries((properties.RequestModels ?? {}) as Record<string, unknown>).map(
      ([contentType, model]) => ({
        contentType,
        schema: (template.Resources[logicalId(model)] as Resource).Properties.Schema as Record<string, unknown>,
      }),
    );
    const integration = properties.Integration as { Uri?: { 'Fn::Join': [string, unknown[]] } };
    const target = JSON.stringify(integration.Uri).match(/"Fn::GetAtt":\["(\w+)","Arn"\]/)?.[1] ?? 'unknown';
    return {
      httpMethod: String(properties.HttpMethod),
      path: pathOf(logicalId(properties.ResourceId)),
      parameters: (properties.RequestParameters ?? {}) as Record<string, boolean>,
      validateParameters: validator?.ValidateRequestParameters === true,
      validateBody: validator?.ValidateRequestBody === true,
      models,
      target,
    };
  });
  const responses = new Map(
    ofType('AWS::ApiGateway::GatewayResponse').map(([, response]) => [
      String(response.Properties.ResponseType),
      response.Properties as {
        StatusCode?: string;
        ResponseParameters?: Record<string, string>;
        ResponseTemplates?: Record<string, string>;
      },
    ]),
  );

  /** API Gateway's answer of a type: the template's own response, or the 4XX default, substituted as it does. */
  const gatewayAnswer = (
    type: keyof typeof API_GATEWAY_SAYS | 'BAD_REQUEST_PARAMETERS',
    message: string,
    status: number,
  ) => {
    const response = responses.get(type) ?? responses.get('DEFAULT_4XX');
    const template = response?.ResponseTemplates?.['application/json'];
    const contentType = response?.ResponseParameters?.['gatewayresponse.header.Content-Type']?.replaceAll("'", '');
    return {
      refused: {
        status: response?.StatusCode === undefined ? status : Number(response.StatusCode),
        contentType: template === undefined ? 'application/json' : contentType,
        body:
          template === undefined
            ? JSON.stringify({ message })
            : template.replaceAll('$context.error.messageString', JSON.stringify(message)),
      },
    };
  };
  const says = (type: keyof typeof API_GATEWAY_SAYS) =>
    gatewayAnswer(type, API_GATEWAY_SAYS[type][1], API_GATEWAY_SAYS[type][0]);

  const matches = (resourcePath: string, path: string): Record<string, string> | undefined => {
    const want = resourcePath.split('/');
    const got = path.split('/');
    if (want.length !== got.length) return undefined;
    const parameters: Record<string, string> = {};
    for (const [index, part] of want.entries()) {
      const value = got[index] as string;
      const name = /^\{(.+)\}$/.exec(part)?.[1];
      if (name !== undefined) {
        if (value === '') return undefined;
        parameters[name] = decodeURIComponent(value);
      } else if (part !== value) return undefined;
    }
    return parameters;
  };

  return {
    methods,
    answer(request: TemplateRequest): TemplateVerdict {
      if (Buffer.byteLength(request.body) > REST_API_PAYLOAD_LIMIT) return says('REQUEST_TOO_LARGE');
      const url = new URL(request.url, 'https://api.example');
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
      );
      for (const method of methods) {
        if (method.httpMethod !== request.method) continue;
        const pathParameters = matches(method.path, url.pathname);
        if (pathParameters === undefined) continue;
        if (method.validateParameters) {
          const missing = Object.entries(method.parameters)
            .filter(([, required]) => required)
            .map(([name]) => name.split('.'))
            .filter(([, , where, name = '']) => {
              const value =
                where === 'path'
                  ? pathParameters[name]
                  : where === 'querystring'
                    ? url.searchParams.get(name)
                    : headers[name.toLowerCase()];
              return value === undefined || value === null || value === '';
            })
            .map((parts) => parts[3]);
          if (missing.length > 0)
            return gatewayAnswer(
              'BAD_REQUEST_PARAMETERS',
              `Missing required request parameters: [${missing.join(', ')}]`,
              400,
            );
        }
        if (method.validateBody) {
          const mediaType = (headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase();
          const model =
            method.models.find((candidate) => candidate.contentType.toLowerCase() === mediaType) ??
            method.models.find((candidate) => candidate.contentType === '$default');
          if (model !== undefined) {
            let body: unknown;
            try {
              body = request.body.trim() === '' ? {} : JSON.parse(request.body);
            } catch {
              return says('BAD_REQUEST_BODY');
            }
            if (!new Validator(model.schema as never, '4').validate(body).valid) return says('BAD_REQUEST_BODY');
          }
        }
        return { integration: method.target };
      }
      return says('MISSING_AUTHENTICATION_TOKEN');
    },
  };
};
