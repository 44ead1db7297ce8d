import { z } from 'zod';
import { conventionIdSchema, conventionSchema, runIdSchema } from '#osa/domain';
import { startIngestPayloadSchema } from '#osa/queues';
import type { Scope } from '../auth/scopes.js';
import { issuesQuerySchema, listQuerySchema, replayBodySchema } from './ingestions.controller.js';
import {
  conventionListSchema,
  conventionStoredSchema,
  errorResponseSchema,
  issuesPageSchema,
  replayAcceptedSchema,
  runCardSchema,
  runListSchema,
  runSummarySchema,
  startAcceptedSchema,
  startJobStatusSchema,
} from './validation.js';

/**
 * A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect): a request as the controller
 * accepts it (`input`: defaults optional, coercions as the wire type), a response as the API
 * writes it (`output`: no key it does not list). What JSON Schema cannot say (a refinement, a
 * transform) is left out, so the controller's parse stays the authority.
 */
export function toOpenApiSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return rest;
}

/** One query parameter per property of the object schema the controller parses the query with. */
function queryParameters(schema: z.ZodObject): Array<{ name: string; in: 'query'; required: boolean; schema: unknown }> {
  const { properties = {}, required = [] } = toOpenApiSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: required.includes(name), schema: property }));
}

/** The HTTP API as OpenAPI 3.1, its schemas generated from the zod schemas the API parses and answers with. */
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const runId = { name: 'id', in: 'path', required: true, schema: toOpenApiSchema(runIdSchema, 'input') };
const conventionId = { name: 'id', in: 'path', required: true, schema: toOpenApiSchema(conventionIdSchema, 'input') };
/** Said wherever a credential lets a caller decide what runs: `conventions:write` is code execution. */
const TOKEN_RUNS_CODE =
  'The conventions:write scope is code execution: a convention names the command the local runner executes on the service host (any argv, e.g. ["sh", "-c", "…"]) and the image the Kubernetes runner starts with the shared data volume mounted (within ALLOWED_IMAGE_PREFIXES when set). Whoever holds a token with it can run any program there and read or change every run\'s data; give it only to those you would give shell access to those hosts. API_TOKEN has every scope.';
/**
 * Who may call a route: a bearer token (a static token or an OIDC JWT) or the browser session
 * cookie, with every scope listed (OpenAPI 3.1 lets non-OAuth schemes list role names).
 */
const secured = (...scopes: [Scope, ...Scope[]]) => ({
  security: [{ bearer: scopes }, { session: scopes }],
  'x-required-scopes': scopes,
});
const unauthorized = {
  '401': error('no credential, or a wrong or expired one'),
  '403': error('the credential lacks a scope the route needs; the message and `missingScopes` name it'),
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'osa-ingest control plane',
    version: '1',
    description: `Start, watch and replay ingest runs; manage conventions. Every /api route except this document needs a credential with the scopes it lists: \`Authorization: Bearer <token>\` (API_TOKEN, a named token of API_TOKENS, or a JWT of OIDC_ISSUER) or a browser session from /login (whose state-changing requests carry the session's CSRF token in \`x-csrf-token\` or the form field \`csrf\`). Scopes: runs:read (read runs, start jobs and conventions), ingestions:write (start, replay without an image override, resume), conventions:write (register conventions, image overrides). ${TOKEN_RUNS_CODE}`,
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: `API_TOKEN (every scope), a named token of API_TOKENS (its scopes), or a JWT of OIDC_ISSUER for OIDC_AUDIENCE (the scopes of its OIDC_SCOPE_CLAIM claim). ${TOKEN_RUNS_CODE}`,
      },
      session: {
        type: 'apiKey',
        in: 'cookie',
        name: 'osa_session',
        description: 'a browser session from POST /login, with the scopes of the token it was made from',
      },
    },
    schemas: {
      Error: toOpenApiSchema(errorResponseSchema, 'output'),
      StartIngest: toOpenApiSchema(startIngestPayloadSchema, 'input'),
      StartAccepted: toOpenApiSchema(startAcceptedSchema, 'output'),
      RunList: toOpenApiSchema(runListSchema, 'output'),
      RunSummary: toOpenApiSchema(runSummarySchema, 'output'),
      RunCard: toOpenApiSchema(runCardSchema, 'output'),
      IssuesPage: toOpenApiSchema(issuesPageSchema, 'output'),
      Replay: toOpenApiSchema(replayBodySchema, 'input'),
      ReplayAccepted: toOpenApiSchema(replayAcceptedSchema, 'output'),
      StartJob: toOpenApiSchema(startJobStatusSchema, 'output'),
      Convention: { ...toOpenApiSchema(conventionSchema, 'input'), description: 'a convention document (see README "Conventions")' },
      ConventionList: toOpenApiSchema(conventionListSchema, 'output'),
      ConventionStored: toOpenApiSchema(conventionStoredSchema, 'output'),
    },
  },
  paths: {
    '/api/openapi.json': { get: { summary: 'this document', responses: { '200': { description: 'OpenAPI 3.1 document' } } } },
    '/api/ingestions': {
      post: {
        summary: 'start an ingest run (publishes a start-ingest job)',
        ...secured('ingestions:write'),
        requestBody: { required: true, ...json(ref('StartIngest')) },
        responses: {
          '202': { description: 'queued', ...json(ref('StartAccepted')) },
          '400': error('invalid body; names the field'),
          ...unauthorized,
        },
      },
      get: {
        summary: 'list runs, newest first',
        ...secured('runs:read'),
        parameters: [...queryParameters(listQuerySchema)],
        responses: {
          '200': { description: 'a page of runs', ...json(ref('RunList')) },
          '400': error('bad query'),
          ...unauthorized,
        },
      },
    },
    '/api/ingestions/{id}': {
      get: {
        summary: 'the run card',
        ...secured('runs:read'),
        parameters: [runId],
        responses: {
          '200': { description: 'the run', ...json(ref('RunCard')) },
          '400': error('the id is not a run id'),
          '404': error('no such run'),
          ...unauthorized,
        },
      },
    },
    '/api/ingestions/{id}/issues': {
      get: {
        summary: 'record issues of a run (records that did not pass, lines that could not be read)',
        ...secured('runs:read'),
        parameters: [runId, ...queryParameters(issuesQuerySchema)],
        responses: {
          '200': { description: 'issues', ...json(ref('IssuesPage')) },
          '400': error('bad query (batch, limit and offset are integers up to 2147483647); names the field'),
          '404': error('no such run'),
          ...unauthorized,
        },
      },
    },
    '/api/ingestions/{id}/replay': {
      post: {
        summary: 'replay the batches that failed in the hooks or the publisher (reopens a completed run)',
        description: `Needs ingestions:write; an \`image\` override also needs conventions:write (403 naming it) and must match ALLOWED_IMAGE_PREFIXES when set (400 naming the image and the prefixes). An \`image\` override makes the Kubernetes runner start that image for the replayed hooks. ${TOKEN_RUNS_CODE}`,
        ...secured('ingestions:write'),
        parameters: [runId],
        requestBody: { required: false, ...json(ref('Replay')) },
        responses: {
          '202': { description: 'the batches were reset and their jobs queued again', ...json(ref('ReplayAccepted')) },
          '400': error('invalid body or override'),
          '404': error('no such run'),
          '409': error('nothing to replay, or the convention has another active run'),
          ...unauthorized,
        },
      },
    },
    '/api/ingestions/{id}/resume': {
      post: {
        summary: "lift the failure breaker's pause: the ingester pulls again and the breaker counts only the batches that follow",
        ...secured('ingestions:write'),
        parameters: [runId],
        responses: {
          '200': { description: 'resumed; the run as it is now', ...json(ref('RunSummary')) },
          '400': error('the id is not a run id'),
          '404': error('no such run'),
          '409': error('the run is not paused, or no longer active'),
          ...unauthorized,
        },
      },
    },
    '/api/start-jobs/{jobId}': {
      get: {
        summary: 'what became of a start request: its run id, or why it was refused',
        ...secured('runs:read'),
        parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'the start job', ...json(ref('StartJob')) },
          '404': error('unknown or expired job'),
          ...unauthorized,
        },
      },
    },
    '/api/conventions': {
      get: {
        summary: 'list conventions',
        ...secured('runs:read'),
        responses: { '200': { description: 'conventions', ...json(ref('ConventionList')) }, ...unauthorized },
      },
    },
    '/api/conventions/{id}': {
      get: {
        summary: 'a convention',
        ...secured('runs:read'),
        parameters: [conventionId],
        responses: {
          '200': { description: 'the convention', ...json(ref('Convention')) },
          '400': error('the id is not a convention id'),
          '404': error('no such convention'),
          ...unauthorized,
        },
      },
      put: {
        summary: 'register or replace a convention (validated; the body id must match the path)',
        description: `Every image must match ALLOWED_IMAGE_PREFIXES when set (400 naming the image and the prefixes). The convention's \`command\` is run by the local runner on the service host as given, and its \`image\` by the Kubernetes runner with the data volume mounted; runs started afterwards use them. ${TOKEN_RUNS_CODE}`,
        ...secured('conventions:write'),
        parameters: [conventionId],
        requestBody: { required: true, ...json(ref('Convention')) },
        responses: {
          '200': { description: 'stored', ...json(ref('ConventionStored')) },
          '400': error('invalid convention; names the field'),
          ...unauthorized,
        },
      },
    },
  },
} as const;
