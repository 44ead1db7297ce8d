import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, Req } from '@nestjs/common';
import { z } from 'zod';
import type { AppConfig } from '#osa/config';
import { conventionIdSchema, hookNameSchema, RunStatus, runIdSchema } from '#osa/domain';
import { ConventionRepository, type DatabaseHandle, RunLedger } from '#osa/persistence';
import { APP_CONFIG, DATABASE, JobProducer, ReplayService } from '#osa/pipeline';
import { BACKOFF_TYPE, JobName, QueueName, RETENTION, startIngestPayloadSchema } from '#osa/queues';
import type { HttpRequest } from '../auth/http-request.js';
import { authorizeImageOverride } from '../auth/image-override.js';
import { RequireScopes } from '../auth/require-scopes.decorator.js';
import { replayResponse } from './replay-response.js';
import { resumeRun } from './resume-run.js';
import { RunQueryService } from './run-query.service.js';
import { badRequest, parseInput } from './validation.js';

const runPathSchema = z.object({ id: runIdSchema });
/** The largest value a Postgres integer column (batch indexes, page offsets) holds. */
const INT32_MAX = 2_147_483_647;
export const listQuerySchema = z.object({
  convention: conventionIdSchema.optional(),
  status: z.enum(Object.values(RunStatus) as [RunStatus, ...RunStatus[]]).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(INT32_MAX).default(0),
});
export const issuesQuerySchema = z.object({
  batch: z.coerce.number().int().min(0).max(INT32_MAX).optional().describe("only this batch's issues"),
  kind: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,63}$/, 'must be an issue kind such as invalid_json')
    .optional()
    .describe('only issues of this kind (the run card counts them in issuesByKind)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(INT32_MAX).default(0),
});
export const replayBodySchema = z
  .object({
    batches: z.array(z.number().int().min(0).max(INT32_MAX)).min(1).optional(),
    hook: hookNameSchema.optional(),
    memory: z.string().min(1).optional(),
    image: z.string().min(1).optional(),
  })
  .strict();

/** Start, list, inspect and replay ingest runs. */
@Controller('api/ingestions')
@RequireScopes('runs:read')
export class IngestionsController {
  private readonly conventions = new ConventionRepository();

  constructor(
    private readonly runs: RunQueryService,
    private readonly producer: JobProducer,
    private readonly replays: ReplayService,
    private readonly ledger: RunLedger,
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Publishes a start-ingest job, exactly as any BullMQ client would. */
  @Post()
  @HttpCode(202)
  @RequireScopes('ingestions:write')
  async start(@Body() body: unknown) {
    const payload = parseInput(startIngestPayloadSchema, body, 'start request');
    const convention = await this.conventions.find(this.database.db, payload.conventionId);
    if (!convention) throw badRequest('start request', [{ field: 'conventionId', message: `no convention "${payload.conventionId}" is registered` }]);
    if (!convention.ingester)
      throw badRequest('start request', [{ field: 'conventionId', message: `convention "${convention.id}" has no ingester` }]);
    const job = await this.producer.queues[QueueName.StartIngest].add(JobName.StartIngest, payload, {
      attempts: 5,
      backoff: { type: BACKOFF_TYPE },
      ...RETENTION,
    });
    return { jobId: job.id, status: 'queued', links: { startJob: `/api/start-jobs/${job.id}` } };
  }

  @Get()
  list(@Query() query: unknown) {
    const { convention, ...filter } = parseInput(listQuerySchema, query, 'query');
    return this.runs.list({ conventionId: convention, ...filter });
  }

  @Get(':id')
  async card(@Param() params: unknown) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const card = await this.runs.card(id);
    if (!card) throw new NotFoundException(`no run ${id}`);
    return card;
  }

  @Get(':id/issues')
  async issues(@Param() params: unknown, @Query() query: unknown) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const { batch, ...page } = parseInput(issuesQuerySchema, query, 'query');
    if (!(await this.runs.exists(id))) throw new NotFoundException(`no run ${id}`);
    return this.runs.listIssues(id, { batchIndex: batch, ...page });
  }

  /** Lifts the failure breaker's pause: the ingester pulls again, and the breaker counts afresh. */
  @Post(':id/resume')
  @HttpCode(200)
  @RequireScopes('ingestions:write')
  async resume(@Param() params: unknown) {
    const { id } = parseInput(runPathSchema, params, 'path');
    await resumeRun(this.ledger, id);
    const summary = await this.runs.summary(id);
    if (!summary) throw new NotFoundException(`no run ${id}`);
    return summary;
  }

  /** Re-runs the run's batches that failed in the hooks or the publisher (see ReplayService). */
  @Post(':id/replay')
  @HttpCode(202)
  @RequireScopes('ingestions:write')
  async replay(@Param() params: unknown, @Body() body: unknown, @Req() request: HttpRequest) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const { batches, hook, memory, image } = parseInput(replayBodySchema, body, 'replay request');
    authorizeImageOverride(request.principal, image, this.config.allowedImagePrefixes);
    const override = hook || memory || image ? { hook, memory, image } : undefined;
    return replayResponse(id, await this.replays.replay({ runId: id, batchIndexes: batches, override }));
  }
}
