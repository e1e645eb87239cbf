/** The OpenAPI document: generated from the definitions, valid OpenAPI 3.1, complete, and committed as generated. */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_FILE, OPENAPI_FILE, renderClientTypes, renderOpenApi } from '../../scripts/openapi.js';
import { PROBLEMS, PROBLEM_TYPE_BASE } from '../../shared/errors.js';
import { routes } from '../../shared/http/routes.js';
import { buildOpenApiDocument } from '../../shared/openapi.js';

const document = buildOpenApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: Array<{ name?: string; $ref?: string }> }>>;
  components: { securitySchemes: Record<string, unknown> };
};

describe('OpenAPI document', () => {
  it('validates as OpenAPI 3.1 (swagger-parser)', async () => {
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('documents every route, with its parameters, the Idempotency-Key header and SigV4', () => {
    for (const route of routes)
      expect(document.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    for (const route of routes.filter((candidate) => candidate.operation !== undefined)) {
      const parameters = document.paths[route.path]?.[route.method.toLowerCase()]?.parameters ?? [];
      expect(parameters.map((parameter) => parameter.name ?? parameter.$ref)).toEqual(
        expect.arrayContaining(['dryRun', '#/components/parameters/IdempotencyKey']),
      );
    }
    expect(document.components.securitySchemes.sigv4).toMatchObject({ 'x-amazon-apigateway-authtype': 'awsSigv4' });
  });

  it('documents every problem type URI', () => {
    const text = JSON.stringify(document);
    for (const kind of Object.keys(PROBLEMS)) expect(text).toContain(`${PROBLEM_TYPE_BASE}${kind}`);
  });

  it('is committed exactly as `npm run openapi` generates it (docs/openapi.json and the client types)', async () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
    expect(readFileSync(CLIENT_TYPES_FILE, 'utf8')).toBe(await renderClientTypes());
  });
});
