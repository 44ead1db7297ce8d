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
