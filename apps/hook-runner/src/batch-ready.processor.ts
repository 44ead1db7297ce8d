import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { Stage } from '#osa/domain';
import { APP_CONFIG, ExhaustionService, RunHooksService, StageProcessor } from '#osa/pipeline';
import { QueueName } from '#osa/queues';

@Injectable()
export class BatchReadyProcessor extends StageProcessor {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: RunHooksService,
    exhaustion: ExhaustionService,
  ) {
    super(config, QueueName.BatchReady, config.stages.hooks, Stage.Hooks, exhaustion);
  }

  protected handle(job: Job, _token: string | undefined, signal: AbortSignal | undefined) {
    return this.service.runHooks({ data: job.data, attempt: job.attemptsStarted, signal });
  }
}
