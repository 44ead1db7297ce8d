import { Body, Controller, Get, Inject, NotFoundException, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { RunLedger } from '#osa/persistence';
import type { AppConfig } from '#osa/config';
import { APP_CONFIG, ReplayService } from '#osa/pipeline';
import { replayResponse } from '../api/replay-response.js';
import { resumeRun } from '../api/resume-run.js';
import { badRequest, parseInput } from '../api/validation.js';
import type { HttpRequest } from '../auth/http-request.js';
import { authorizeImageOverride } from '../auth/image-override.js';
import { RequireScopes } from '../auth/require-scopes.decorator.js';
import { csrfToken } from '../auth/session.js';
import { replayConfirmPage, replayDonePage, resumeConfirmPage, resumeDonePage } from './actions.view.js';
import { confirmFormSchema, replayFormSchema, runListQuerySchema, runPageQuerySchema, runPathSchema } from './page-input.js';
import { PageErrorFilter, sendPage } from './page-response.js';
import { countersFragment, hooksFragment, memoryFragment, type PageAbilities, runPage, timelineFragment } from './run-page.view.js';
import { RunPagesService } from './run-pages.service.js';
import { isActive } from './run-view.js';
import { runsListPage } from './runs-list.view.js';

const abilities = (request: HttpRequest): PageAbilities => ({
  ingest: request.principal?.scopes.has('ingestions:write') ?? false,
  conventions: request.principal?.scopes.has('conventions:write') ?? false,
});

/** The server-rendered run pages: list, run, live fragments, and the replay and resume actions. */
@Controller('runs')
@UseFilters(PageErrorFilter)
export class PagesController {
  constructor(
    private readonly pages: RunPagesService,
    private readonly replays: ReplayService,
    private readonly ledger: RunLedger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @RequireScopes('runs:read')
  async list(@Query() query: unknown, @Res() res: ServerResponse) {
    sendPage(res, runsListPage(await this.pages.list(parseInput(runListQuerySchema, query, 'query'))));
  }

  @Get(':id')
  @RequireScopes('runs:read')
  async run(@Param() params: unknown, @Query() query: unknown, @Req() req: HttpRequest, @Res() res: ServerResponse) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const view = await this.pages.run(id, parseInput(runPageQuerySchema, query, 'query'));
    if (!view) throw new NotFoundException(`no run ${id}`);
    sendPage(res, runPage(view, abilities(req)));
  }

  /**
   * What the live script swaps in every few seconds while the run is active: the counters and
   * the timeline, from a read that loads no log tails and sums no hook outcomes. The last poll
   * (the run has finished, so the script stops) also brings the hook outcomes and memory.
   */
  @Get(':id/live')
  @RequireScopes('runs:read')
  async live(@Param() params: unknown) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const view = await this.pages.live(id);
    if (!view) throw new NotFoundException(`no run ${id}`);
    const active = isActive(view.run);
    const full = active ? undefined : await this.pages.run(id);
    return {
      runId: id,
      status: view.run.status,
      active,
      batches: view.batchTotal,
      fragments: {
        'live-counters': countersFragment(view).toString(),
        'live-timeline': timelineFragment(view).toString(),
        ...(full && { 'live-hooks': hooksFragment(full).toString(), 'live-memory': memoryFragment(full).toString() }),
      },
    };
  }

  @Get(':id/replay')
  @RequireScopes('ingestions:write')
  async confirmReplay(@Param() params: unknown, @Query() query: unknown, @Req() req: HttpRequest, @Res() res: ServerResponse) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const { body } = parseInput(replayFormSchema, query, 'replay form');
    authorizeImageOverride(req.principal, body.image, this.config.allowedImagePrefixes, 'replay form');
    const view = await this.pages.run(id);
    if (!view) throw new NotFoundException(`no run ${id}`);
    sendPage(res, replayConfirmPage(view.run, await this.pages.failedBatches(id), body, csrfToken(req)));
  }

  @Post(':id/replay')
  @RequireScopes('ingestions:write')
  async replay(@Param() params: unknown, @Body() form: unknown, @Req() req: HttpRequest, @Res() res: ServerResponse) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const { body, confirmed } = parseInput(replayFormSchema, form, 'replay form');
    if (!confirmed) throw badRequest('replay form', [{ field: 'confirm', message: 'the confirmation page must be used' }]);
    authorizeImageOverride(req.principal, body.image, this.config.allowedImagePrefixes, 'replay form');
    const override = body.hook || body.memory || body.image ? { hook: body.hook, memory: body.memory, image: body.image } : undefined;
    const result = replayResponse(id, await this.replays.replay({ runId: id, batchIndexes: body.batches, override }));
    sendPage(res, replayDonePage(id, result), 202);
  }

  @Get(':id/resume')
  @RequireScopes('ingestions:write')
  async confirmResume(@Param() params: unknown, @Req() req: HttpRequest, @Res() res: ServerResponse) {
    const { id } = parseInput(runPathSchema, params, 'path');
    const view = await this.pages.run(id);
    if (!view) throw new NotFoundException(`no run ${id}`);
    sendPage(res, resumeConfirmPage(view.run, csrfToken(req)));
  }

  @Post(':id/resume')
  @RequireScopes('ingestions:write')
  async resume(@Param() params: unknown, @Body() form: unknown, @Res() res: ServerResponse) {
    const { id } = parseInput(runPathSchema, params, 'path');
    parseInput(confirmFormSchema, form, 'resume form');
    await resumeRun(this.ledger, id);
    sendPage(res, resumeDonePage(id));
  }
}
