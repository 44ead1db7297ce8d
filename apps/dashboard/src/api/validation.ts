import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { conventionSchema, RunStatus } from '#osa/domain';

export interface FieldProblem {
  field: string;
  message: string;
}

/** A 400 whose message and `issues` name every bad field. */
export function badRequest(what: string, problems: FieldProblem[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: `invalid ${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    issues: problems,
  });
}

/** Parses request input with a zod schema; a failure is a 400 naming each field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw badRequest(
    what,
    result.error.issues.map((issue) => ({ field: fieldOf(issue), message: issue.message })),
  );
}

function fieldOf(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  // A strict object names the keys it does not know in the issue, not in its path.
  if (issue.code === 'unrecognized_keys') path.push(issue.keys.join(','));
  return path.length ? path.join('.') : '(root)';
}

/** Splits a `field: message` problem line (the domain's formatIssues style) into its parts. */
export function problemToField(problem: string): FieldProblem {
  const colon = problem.indexOf(':');
  return colon > 0 ? { field: problem.slice(0, colon), message: problem.slice(colon + 1).trim() } : { field: '(root)', message: problem };
}

/*
 * What the API answers, as zod schemas: the OpenAPI document is generated from them (and from
 * the request schemas the controllers parse with), and the API tests check real responses
 * against the document. A Date is sent as its ISO string.
 */
const count = z.number().int().min(0);
const isoTime = z.iso.datetime();

export const errorResponseSchema = z
  .looseObject({
    statusCode: z.number().int(),
    error: z.string().optional(),
    message: z.union([z.string(), z.array(z.string())]),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: 'an error; a 400 names every bad field in `issues`' });

export const startAcceptedSchema = z.object({
  jobId: z.string(),
  status: z.literal('queued'),
  links: z.object({ startJob: z.string().describe('where to see what became of the request') }),
});

export const runSummarySchema = z.object({
  id: z.uuid(),
  conventionId: z.string(),
  status: z.enum(Object.values(RunStatus) as [RunStatus, ...RunStatus[]]),
  ingestionFinished: z.boolean(),
  batchSize: z.number().int(),
  recordLimit: z.number().int().nullable(),
  counters: z.record(z.string(), count).describe('batches ingested, published and failed; records sourced, published, rejected, errored, invalid'),
  waiting: z.object({
    reason: z.string().nullable().describe('why the ingester waits to pull (backpressure signal and message); null when it does not'),
    since: isoTime.nullable().describe("when the held pull's latest deferral was recorded"),
    heldSince: isoTime.nullable().describe('when the held pull was first deferred, by any signal: the current wait began'),
    boundedSince: isoTime
      .nullable()
      .describe('when the wait that BACKPRESSURE_MAX_WAIT_MS bounds began (null while only the failure breaker holds the pull)'),
    deferrals: count,
    deferredMs: count.describe('time the ingester actually waited, summed over every wait (the current one up to its latest deferral)'),
  }),
  latestFailure: z.object({ reason: z.string(), kind: z.string().nullable() }).nullable(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  ingestionFinishedAt: isoTime.nullable(),
  completedAt: isoTime.nullable(),
});

export const runListSchema = z.object({ items: z.array(runSummarySchema), total: count, limit: count, offset: count });

const hookCounts = z.record(z.string(), count);

export const runCardSchema = runSummarySchema.extend({
  hooks: z.array(z.string()),
  batches: z.object({
    byState: z.record(z.string(), count),
    hooks: z.record(z.string(), hookCounts),
    items: z.array(
      z.object({
        batchIndex: count,
        state: z.string(),
        records: count,
        invalid: count,
        published: count,
        rejected: count,
        errored: count,
        hookCounts: z.record(z.string(), hookCounts),
      }),
    ),
  }),
  issuesByKind: z.record(z.string(), count),
  issuesNotListed: count.describe(
    'issues counted on the batches but not stored one by one: each stage step stores at most 5,000 per batch (per hook) and one issues_truncated line for the rest',
  ),
  failedBatches: z.array(
    z.object({
      batchIndex: count,
      stage: z.string().nullable(),
      kind: z.string().nullable(),
      reason: z.string().nullable(),
      logs: z.array(z.string()).describe("the failing container's last log lines"),
    }),
  ),
});

export const issuesPageSchema = z.object({
  items: z.array(
    z.object({
      id: z.number().int(),
      runId: z.uuid(),
      batchIndex: count,
      stage: z.string(),
      hook: z.string().nullable(),
      sourceId: z.string().nullable(),
      lineNumber: z.number().int().nullable(),
      kind: z.string(),
      reason: z.string(),
      createdAt: isoTime,
    }),
  ),
  total: count.describe('issues matching the filter, on every page'),
  limit: count,
  offset: count,
});

export const replayAcceptedSchema = z.object({
  runId: z.uuid(),
  replay: z.number().int().min(1).describe('how many times the run has been replayed, this one included'),
  reopened: z.boolean().describe('whether a completed run was reopened'),
  status: z.enum(Object.values(RunStatus) as [RunStatus, ...RunStatus[]]),
  batches: z.array(z.object({ batchIndex: count, queue: z.string(), jobId: z.string() })).describe('the batches reset and the jobs queued for them'),
  skipped: z.array(z.object({ batchIndex: count, reason: z.string() })),
});

export const startJobStatusSchema = z.object({
  jobId: z.string(),
  state: z.string(),
  runId: z.uuid().nullable(),
  failure: z.object({ kind: z.string().nullable(), reason: z.string() }).nullable(),
  links: z.object({ run: z.string().optional() }),
});

export const conventionListSchema = z.object({
  items: z.array(z.object({ id: z.string(), hooks: z.array(z.string()), updatedAt: isoTime, spec: conventionSchema })),
});

export const conventionStoredSchema = z.object({ id: z.string(), created: z.boolean(), hooks: z.array(z.string()) });
