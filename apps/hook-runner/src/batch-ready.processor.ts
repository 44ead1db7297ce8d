import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { Stage } from '#osa/domain';
import { APP_CONFIG, RunHooksService, StageProcessor } from '#osa/pipeline';
import { RunLedger } from '#osa/persistence';
import { QueueName } from '#osa/queues';

@Injectable()
export class BatchReadyProcessor extends StageProcessor {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: RunHooksService,
    private readonly ledger: RunLedger,
  ) {
    super(QueueName.BatchReady, config.stages.hooks, Stage.Hooks);
  }

  async handle(job: Job, _token: string | undefined, signal: AbortSignal | undefined) {
    // Each start writes to directories of its own, numbered by the database: BullMQ's start
    // counter restarts at 1 for a job added again while an earlier start may still run.
    const attempt = await this.ledger.nextAttempt('hooks');
    return this.service.runHooks({ data: job.data, attempt, signal });
  }
}
