import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { openApiDocument } from '../../apps/dashboard/src/api/openapi.document.js';
import { IS_PUBLIC, REQUIRED_SCOPES } from '../../apps/dashboard/src/auth/require-scopes.decorator.js';
import { DASHBOARD_API_CONTROLLERS } from '../../apps/dashboard/src/dashboard.module.js';

type Operation = { security?: Array<Record<string, string[]>>; 'x-required-scopes'?: string[]; description?: string };

/** What the guard reads for each route: `METHOD /path` → its scopes, or 'public'. */
function guardedRoutes(): Record<string, string[] | 'public'> {
  const routes: Record<string, string[] | 'public'> = {};
  for (const controller of DASHBOARD_API_CONTROLLERS) {
    const base = String(Reflect.getMetadata(PATH_METADATA, controller));
    for (const name of Object.getOwnPropertyNames(controller.prototype)) {
      const handler = (controller.prototype as unknown as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string;
      const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      const isPublic = (Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, controller)) as boolean | undefined;
      // The guard's rule: the handler's scopes replace the controller's; neither means runs:read.
      const scopes = (Reflect.getMetadata(REQUIRED_SCOPES, handler) ?? Reflect.getMetadata(REQUIRED_SCOPES, controller) ?? ['runs:read']) as string[];
      routes[`${RequestMethod[method]} ${path}`] = isPublic ? 'public' : scopes;
    }
  }
  return routes;
}

describe('OpenAPI security and the scopes the guard enforces', () => {
  const operations = openApiDocument.paths as unknown as Record<string, Record<string, Operation>>;

  it('declares for every route exactly the scopes its handler requires (bearer or session), and no security on public ones', () => {
    const documented: Record<string, string[] | 'public'> = {};
    for (const [path, methods] of Object.entries(operations)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.security) {
          documented[`${method.toUpperCase()} ${path}`] = 'public';
          continue;
        }
        expect(op.security).toEqual([{ bearer: op['x-required-scopes'] }, { session: op['x-required-scopes'] }]);
        documented[`${method.toUpperCase()} ${path}`] = op['x-required-scopes']!;
      }
    }
    expect(documented).toEqual(guardedRoutes());
    expect(guardedRoutes()).toMatchObject({
      'GET /api/openapi.json': 'public',
      'GET /api/ingestions': ['runs:read'],
      'POST /api/ingestions': ['ingestions:write'],
      'POST /api/ingestions/{id}/replay': ['ingestions:write'],
      'PUT /api/conventions/{id}': ['conventions:write'],
    });
  });

  it('says that an image override needs conventions:write too, and that conventions:write is code execution', () => {
    expect(operations['/api/ingestions/{id}/replay']!.post!.description).toMatch(/image.*override also needs conventions:write/);
    expect(openApiDocument.components.securitySchemes.bearer.description).toMatch(/conventions:write scope is code execution/);
    expect(openApiDocument.components.securitySchemes.session).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'osa_session' }),
    );
  });
});
