import { readFileSync } from 'node:fs';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { z } from 'zod';
import { conventionSchema } from '#osa/domain';
import { startIngestPayloadSchema } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { DASHBOARD_API_CONTROLLERS } from '../../apps/dashboard/src/dashboard.module.js';
import { issuesQuerySchema, listQuerySchema, replayBodySchema } from '../../apps/dashboard/src/api/ingestions.controller.js';
import { openApiDocument } from '../../apps/dashboard/src/api/openapi.document.js';
import { OpenApiController } from '../../apps/dashboard/src/api/openapi.controller.js';
import { countingConvention, PipelineHarness } from '../support/pipeline-harness.js';
import { DashboardApp } from './dashboard-app.js';

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
    expect(operating).toMatch(/\*\*`conventions:write` is code execution\.\*\*[^]*`PUT \/api\/conventions\/:id`[^]*`image`\s+override/);
  });

  it('publishes the convention id rules every entry applies', () => {
    const startIngest = openApiDocument.components.schemas.StartIngest as { properties: { conventionId: { pattern: string; maxLength: number } } };
    const schema = startIngest.properties.conventionId;
    expect(schema.maxLength).toBe(40);
    expect(new RegExp(schema.pattern).test('geo-samples')).toBe(true);
    expect(new RegExp(schema.pattern).test('geo\u0000samples')).toBe(false);
  });
});

/** What z.toJSONSchema says of a schema, as a component of a 3.1 document (no `$schema` of its own). */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  expect(dialect).toBe('https://json-schema.org/draft/2020-12/schema');
  return rest;
}

type Operation = {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
const operation = (path: string, method: string) => (openApiDocument.paths as unknown as Record<string, Record<string, Operation>>)[path]![method]!;
const schemas = openApiDocument.components.schemas as unknown as Record<string, unknown>;
/** The schema an operation's request body names, resolved. */
function requestSchema(path: string, method: string): unknown {
  const { $ref } = operation(path, method).requestBody!.content['application/json']!.schema as { $ref: string };
  return schemas[$ref.replace('#/components/schemas/', '')];
}

describe('OpenAPI schemas are the zod schemas the API parses with', () => {
  it('POST /api/ingestions: the start-ingest payload schema the controller parses the body with', () => {
    expect(requestSchema('/api/ingestions', 'post')).toEqual(jsonSchemaOf(startIngestPayloadSchema, 'input'));
  });

  it('POST /api/ingestions/{id}/replay: the replay body schema', () => {
    expect(requestSchema('/api/ingestions/{id}/replay', 'post')).toEqual(jsonSchemaOf(replayBodySchema, 'input'));
  });

  it('PUT /api/conventions/{id}: the convention schema every convention is validated with', () => {
    const { description, ...schema } = requestSchema('/api/conventions/{id}', 'put') as Record<string, unknown>;
    expect(schema).toEqual(jsonSchemaOf(conventionSchema, 'input'));
    expect(description).toMatch(/convention document/);
  });

  it('GET /api/ingestions and its issues: one query parameter per property of the query schema the controller parses with', () => {
    const query = (path: string) => {
      const { parameters } = operation(path, 'get') as unknown as { parameters: Array<{ name: string; in: string; schema: unknown }> };
      return Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema]));
    };
    expect(query('/api/ingestions')).toEqual(jsonSchemaOf(listQuerySchema, 'input').properties);
    expect(query('/api/ingestions/{id}/issues')).toEqual(jsonSchemaOf(issuesQuerySchema, 'input').properties);
    expect(Object.keys(query('/api/ingestions')).sort()).toEqual(['convention', 'limit', 'offset', 'status']);
  });

  it('keeps the rules the validators apply, so a client can check a body before sending it', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validStart = ajv.compile(requestSchema('/api/ingestions', 'post') as object);
    expect(validStart({ conventionId: 'geo-samples', batchSize: 10 })).toBe(true);
    for (const bad of [{ conventionId: 'Geo' }, { conventionId: 'geo', batchSize: 0 }, { conventionId: 'geo', extra: 1 }, {}]) {
      expect([validStart(bad), startIngestPayloadSchema.safeParse(bad).success]).toEqual([false, false]);
    }
  });

  it('resolves every $ref in the document', () => {
    const refs = JSON.stringify(openApiDocument).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) expect(schemas[ref.slice(8, -1).replace('#/components/schemas/', '')]).toBeDefined();
  });
});

describe('real API responses against the OpenAPI document', () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;
  // The document's components under an id, so each response schema's $ref resolves against them.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'https://osa-ingest.invalid/openapi.json', components: openApiDocument.components });

  beforeAll(async () => {
    // The ingester stage alone: runs are created and sourced, nothing is hooked or published.
    harness = await PipelineHarness.start('openapi', {}, ['ingester']);
    dashboard = await DashboardApp.start(harness.config);
  });
  afterAll(async () => {
    await dashboard?.stop();
    await harness?.stop();
  });

  /** Calls the API and checks the body against the schema the document gives for that status. */
  async function call(method: string, documented: string, path: string, json?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await dashboard.api(path, { method: method.toUpperCase(), json });
    const body = (await res.json()) as Record<string, unknown>;
    const response = operation(documented, method).responses[String(res.status)];
    if (!response) throw new Error(`${method} ${documented} answered ${res.status}, which the document does not list: ${JSON.stringify(body)}`);
    const schema = response.content?.['application/json']?.schema as { $ref?: string } | undefined;
    if (!schema) throw new Error(`${method} ${documented} ${res.status} has no documented body`);
    const validate = ajv.compile({ $ref: `https://osa-ingest.invalid/openapi.json${schema.$ref}` });
    if (!validate(body)) throw new Error(`${method} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
    return { status: res.status, body };
  }

  it('conventions, a start, its start job, the run card, the run list and its issues all match the document', async () => {
    const convention = countingConvention('openapi-run', { total: 12, page_size: 5, malformed_every: 4 });
    expect((await call('put', '/api/conventions/{id}', '/api/conventions/openapi-run', convention)).status).toBe(200);
    expect((await call('get', '/api/conventions/{id}', '/api/conventions/openapi-run')).body.id).toBe('openapi-run');
    expect((await call('get', '/api/conventions', '/api/conventions')).body.items).toHaveLength(1);

    const started = await call('post', '/api/ingestions', '/api/ingestions', { conventionId: 'openapi-run', batchSize: 5 });
    expect(started.status).toBe(202);
    const jobId = String(started.body.jobId);
    const runId = await waitFor('the start job to create its run', async () => {
      const { body } = await call('get', '/api/start-jobs/{jobId}', `/api/start-jobs/${jobId}`);
      return (body.runId as string | null) ?? undefined;
    });
    const card = await waitFor('every batch to be sourced', async () => {
      const { body } = await call('get', '/api/ingestions/{id}', `/api/ingestions/${runId}`);
      return body.ingestionFinished ? body : undefined;
    });
    expect((card.batches as { items: unknown[] }).items).toHaveLength(3);

    expect((await call('get', '/api/ingestions', '/api/ingestions?convention=openapi-run')).body.total).toBe(1);
    const issues = await call('get', '/api/ingestions/{id}/issues', `/api/ingestions/${runId}/issues?limit=10`);
    expect((issues.body.items as unknown[]).length).toBeGreaterThan(0);
  });

  it('errors match the document: a bad body, an unknown run, nothing to replay', async () => {
    expect((await call('post', '/api/ingestions', '/api/ingestions', { conventionId: 'Not An Id' })).status).toBe(400);
    expect((await call('get', '/api/ingestions/{id}', '/api/ingestions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await call('get', '/api/ingestions/{id}', '/api/ingestions/not-a-uuid')).status).toBe(400);
    const run = (await call('get', '/api/ingestions', '/api/ingestions')).body.items as Array<{ id: string }>;
    expect((await call('post', '/api/ingestions/{id}/replay', `/api/ingestions/${run[0]!.id}/replay`, {})).status).toBe(409);
  });

  it('catches a response that drifts from the document', () => {
    const validate = ajv.compile({ $ref: 'https://osa-ingest.invalid/openapi.json#/components/schemas/StartAccepted' });
    expect(validate({ jobId: '1', status: 'queued', links: { startJob: '/api/start-jobs/1' } })).toBe(true);
    expect(validate({ jobId: '1', status: 'queued', links: { startJob: '/api/start-jobs/1' }, undocumented: true })).toBe(false);
    expect(validate({ jobId: 1, status: 'queued', links: { startJob: '/api/start-jobs/1' } })).toBe(false);
  });
});
