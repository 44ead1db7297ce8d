import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { JobProducer } from '#osa/pipeline';
import { parseFailedReason, QueueName } from '#osa/queues';
import { RequireScopes } from '../auth/require-scopes.decorator.js';

/** What became of a start request: the run it created, or why it was refused. */
@Controller('api/start-jobs')
@RequireScopes('runs:read')
export class StartJobsController {
  constructor(private readonly producer: JobProducer) {}

  @Get(':jobId')
  async status(@Param('jobId') jobId: string) {
    const job = await this.producer.queues[QueueName.StartIngest].getJob(jobId);
    if (!job) throw new NotFoundException(`no start job ${jobId} (finished jobs are kept for a limited time)`);
    const state = await job.getState();
    const runId = state === 'completed' ? ((job.returnvalue as { runId?: string } | null)?.runId ?? null) : null;
    const failure = state === 'failed' ? parseFailedReason(job.failedReason) : undefined;
    return {
      jobId,
      state,
      runId,
      failure: failure ? { kind: failure.kind ?? null, reason: failure.message } : null,
      links: runId ? { run: `/api/ingestions/${runId}` } : {},
    };
  }
}
