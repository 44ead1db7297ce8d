import { readFileSync } from 'node:fs';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { DASHBOARD_API_CONTROLLERS } from '../../apps/dashboard/src/dashboard.module.js';
import { openApiDocument } from '../../apps/dashboard/src/api/openapi.document.js';
import { OpenApiController } from '../../apps/dashboard/src/api/openapi.controller.js';

/** Every `METHOD /path` the controllers declare, with `:param` written as OpenAPI's `{param}`. */
function controllerRoutes(): string[] {
  const routes: string[] = [];
  for (const controller of DASHBOARD_API_CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller));
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (sub === undefined || method === undefined) continue;
      const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      routes.push(`${RequestMethod[method]} ${path}`);
    }
  }
  return routes.sort();
}

function documentRoutes(): string[] {
  return Object.entries(openApiDocument.paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe(OpenApiController.name, () => {
  it('documents every route the controllers serve, and no other', () => {
    expect(documentRoutes()).toEqual(controllerRoutes());
    expect(controllerRoutes()).toContain('POST /api/ingestions/{id}/replay');
  });

  it('serves the document', () => {
    expect(new OpenApiController().document()).toBe(openApiDocument);
  });
});

describe('OpenAPI document on what the API token allows', () => {
  const operations = openApiDocument.paths as unknown as Record<string, Record<string, { description?: string }>>;
  const runsCode = /code execution/i;

  it('says in the security scheme, the convention PUT and replay that the token runs code', () => {
    expect(openApiDocument.components.securitySchemes.bearer.description).toMatch(runsCode);
    expect(operations['/api/conventions/{id}']!.put!.description).toMatch(runsCode);
    expect(operations['/api/conventions/{id}']!.put!.description).toContain('command');
    expect(operations['/api/ingestions/{id}/replay']!.post!.description).toMatch(runsCode);
    expect(openApiDocument.info.description).toMatch(runsCode);
  });

  it('is said as plainly in the README, where operators read about credentials', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const operating = readme.slice(readme.indexOf('## Operating'));
    expect(operating).toMatch(/\*\*The API token is code execution\.\*\*[^]*`PUT \/api\/conventions\/:id`[^]*`image`\s+override/);
  });

  it('publishes the convention id rules every entry applies', () => {
    const schema = openApiDocument.components.schemas.StartIngest.properties.conventionId as { pattern: string; maxLength: number };
    expect(schema.maxLength).toBe(40);
    expect(new RegExp(schema.pattern).test('geo-samples')).toBe(true);
    expect(new RegExp(schema.pattern).test('geo\u0000samples')).toBe(false);
  });
});
