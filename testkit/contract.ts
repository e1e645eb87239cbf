/**
 * The contract check of every exchange the tests make through the harness: the answer's status must be documented
 * for that route in the generated OpenAPI document, with that media type, and its body must validate against the
 * documented schema; a request that succeeded must carry a body the document accepts. So the document cannot drift
 * from behaviour.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { buildOpenApiDocument } from '../shared/openapi.js';

interface MediaType {
  schema?: object;
}
interface Operation {
  responses: Record<string, { content?: Record<string, MediaType> }>;
  requestBody?: { content: Record<string, MediaType> };
}

const document = (await SwaggerParser.dereference(buildOpenApiDocument() as never)) as unknown as {
  paths: Record<string, Record<string, Operation>>;
};
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
const compiled = new Map<object, ValidateFunction>();
const validator = (schema: object) => {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
};

export const assertMatchesContract = (exchange: {
  method: string;
  route: string;
  status: number;
  contentType: string | undefined;
  body: unknown;
  requestBody?: unknown;
}): void => {
  const operation = document.paths[exchange.route]?.[exchange.method.toLowerCase()];
  if (operation === undefined)
    throw new Error(`contract: ${exchange.method} ${exchange.route} is not in the OpenAPI document`);
  const response = operation.responses[String(exchange.status)];
  if (response === undefined)
    throw new Error(
      `contract: ${exchange.method} ${exchange.route} answered ${exchange.status}, which the document does not list`,
    );
  const mediaType = exchange.contentType?.split(';')[0]?.trim() ?? '';
  const media = response.content?.[mediaType];
  if (media?.schema === undefined)
    throw new Error(
      `contract: ${exchange.status} of ${exchange.method} ${exchange.route} is not documented as ${mediaType}`,
    );
  const validate = validator(media.schema);
  if (!validate(exchange.body))
    throw new Error(
      `contract: the ${exchange.status} body of ${exchange.method} ${exchange.route} breaks the document: ${ajv.errorsText(validate.errors)}`,
    );
  const requestSchema = operation.requestBody?.content['application/json']?.schema;
  if (exchange.status === 200 && requestSchema !== undefined && exchange.requestBody !== undefined) {
    const validateRequest = validator(requestSchema);
    if (!validateRequest(exchange.requestBody))
      throw new Error(
        `contract: an accepted request body breaks the document: ${ajv.errorsText(validateRequest.errors)}`,
      );
  }
};
