import { CONVENTION_ID_PATTERN, MAX_NAME_LENGTH } from '#osa/domain';

/** The HTTP API as OpenAPI 3.1; a test keeps it and the controllers' routes identical. */
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const conventionIdSchema = { type: 'string', maxLength: MAX_NAME_LENGTH, pattern: CONVENTION_ID_PATTERN.source };
const conventionId = { name: 'id', in: 'path', required: true, schema: conventionIdSchema };
/** Said wherever the API token lets a caller decide what runs: it is code execution. */
const TOKEN_RUNS_CODE =
  'The API token is code execution: a convention names the command the local runner executes on the service host (any argv, e.g. ["sh", "-c", "…"]) and the image the Kubernetes runner starts with the shared data volume mounted. Whoever holds API_TOKEN can run any program there and read or change every run\'s data; give it only to those you would give shell access to those hosts. It is one token for every route; scopes come later.';
const secured = { security: [{ bearer: [] }] };
const unauthorized = { '401': error('missing or wrong bearer token') };

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'osa-ingest control plane',
    version: '1',
    description: `Start, watch and replay ingest runs; manage conventions. Every /api route except this document needs \`Authorization: Bearer <API_TOKEN>\`. ${TOKEN_RUNS_CODE}`,
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: `API_TOKEN (at least 24 characters). ${TOKEN_RUNS_CODE}` } },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          statusCode: { type: 'integer' },
          message: { type: 'string' },
          issues: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
      StartIngest: {
        type: 'object',
        additionalProperties: false,
        required: ['conventionId'],
        properties: {
          conventionId: conventionIdSchema,
          batchSize: { type: 'integer', minimum: 1, maximum: 1000000 },
          limit: { type: 'integer', minimum: 1 },
        },
      },
      RunSummary: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          conventionId: { type: 'string' },
          status: { enum: ['pending', 'running', 'completed'] },
          ingestionFinished: { type: 'boolean' },
          counters: { type: 'object', additionalProperties: { type: 'integer' } },
          waiting: {
            type: 'object',
            properties: {
              reason: {
                type: ['string', 'null'],
                description: 'why the ingester waits to pull (backpressure signal and message); null when it does not',
              },
              since: { type: ['string', 'null'], format: 'date-time', description: 'when the current wait began' },
              deferrals: { type: 'integer' },
              deferredMs: {
                type: 'integer',
                description: 'time the ingester actually waited, summed over every wait (the current one up to its latest deferral)',
              },
            },
          },
          latestFailure: { type: ['object', 'null'], properties: { reason: { type: 'string' }, kind: { type: 'string' } } },
        },
      },
      RunCard: {
        allOf: [
          ref('RunSummary'),
          {
            type: 'object',
            properties: {
              hooks: { type: 'array', items: { type: 'string' } },
              batches: { type: 'object', properties: { byState: { type: 'object' }, hooks: { type: 'object' }, items: { type: 'array' } } },
              issuesByKind: { type: 'object', additionalProperties: { type: 'integer' } },
              issuesNotListed: {
                type: 'integer',
                description:
                  'issues counted on the batches but not stored one by one: each stage step stores at most 5,000 per batch (per hook) and one issues_truncated line for the rest',
              },
              failedBatches: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    batchIndex: { type: 'integer' },
                    stage: { type: 'string' },
                    kind: { type: 'string' },
                    reason: { type: 'string' },
                    logs: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
        ],
      },
      Replay: {
        type: 'object',
        additionalProperties: false,
        properties: {
          batches: { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'failed batches to replay (default: every replayable one)' },
          hook: { ...conventionIdSchema, description: 'the hook the overrides apply to (default: every hook)' },
          memory: { type: 'string', description: 'memory limit for the replayed hooks, e.g. "2g"' },
          image: {
            type: 'string',
            maxLength: 512,
            description:
              'image for the replayed hooks (Kubernetes runner): it runs with the data volume mounted, so this is code execution like PUT /api/conventions/{id}',
          },
        },
      },
      Convention: {
        type: 'object',
        description: 'a convention document (see README "Conventions")',
        required: ['id'],
        properties: { id: { type: 'string' } },
      },
    },
  },
  paths: {
    '/api/openapi.json': { get: { summary: 'this document', responses: { '200': { description: 'OpenAPI 3.1 document' } } } },
    '/api/ingestions': {
      post: {
        summary: 'start an ingest run (publishes a start-ingest job)',
        ...secured,
        requestBody: { required: true, ...json(ref('StartIngest')) },
        responses: {
          '202': { description: 'queued', ...json({ type: 'object', properties: { jobId: { type: 'string' }, status: { const: 'queued' } } }) },
          '400': error('invalid body; names the field'),
          ...unauthorized,
        },
      },
      get: {
        summary: 'list runs, newest first',
        ...secured,
        parameters: [
          { name: 'convention', in: 'query', schema: conventionIdSchema },
          { name: 'status', in: 'query', schema: { enum: ['pending', 'running', 'completed'] } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        ],
        responses: {
          '200': {
            description: 'a page of runs',
            ...json({
              type: 'object',
              properties: {
                items: { type: 'array', items: ref('RunSummary') },
                total: { type: 'integer' },
                limit: { type: 'integer' },
                offset: { type: 'integer' },
              },
            }),
          },
          '400': error('bad query'),
          ...unauthorized,
        },
      },
    },
    '/api/ingestions/{id}': {
      get: {
        summary: 'the run card',
        ...secured,
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
        ...secured,
        parameters: [
          runId,
          { name: 'batch', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          '200': { description: 'issues', ...json({ type: 'object', properties: { items: { type: 'array' }, limit: { type: 'integer' } } }) },
          '404': error('no such run'),
          ...unauthorized,
        },
      },
    },
    '/api/ingestions/{id}/replay': {
      post: {
        summary: 'replay the batches that failed in the hooks or the publisher (reopens a completed run)',
        description: `An \`image\` override makes the Kubernetes runner start that image for the replayed hooks. ${TOKEN_RUNS_CODE}`,
        ...secured,
        parameters: [runId],
        requestBody: { required: false, ...json(ref('Replay')) },
        responses: {
          '202': { description: 'the batches were reset and their jobs queued again' },
          '400': error('invalid body or override'),
          '404': error('no such run'),
          '409': error('nothing to replay, or the convention has another active run'),
          ...unauthorized,
        },
      },
    },
    '/api/start-jobs/{jobId}': {
      get: {
        summary: 'what became of a start request: its run id, or why it was refused',
        ...secured,
        parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'the start job',
            ...json({
              type: 'object',
              properties: { state: { type: 'string' }, runId: { type: ['string', 'null'] }, failure: { type: ['object', 'null'] } },
            }),
          },
          '404': error('unknown or expired job'),
          ...unauthorized,
        },
      },
    },
    '/api/conventions': {
      get: { summary: 'list conventions', ...secured, responses: { '200': { description: 'conventions' }, ...unauthorized } },
    },
    '/api/conventions/{id}': {
      get: {
        summary: 'a convention',
        ...secured,
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
        description: `The convention's \`command\` is run by the local runner on the service host as given, and its \`image\` by the Kubernetes runner with the data volume mounted; runs started afterwards use them. ${TOKEN_RUNS_CODE}`,
        ...secured,
        parameters: [conventionId],
        requestBody: { required: true, ...json(ref('Convention')) },
        responses: {
          '200': { description: 'stored', ...json({ type: 'object', properties: { id: { type: 'string' }, created: { type: 'boolean' } } }) },
          '400': error('invalid convention; names the field'),
          ...unauthorized,
        },
      },
    },
  },
} as const;
