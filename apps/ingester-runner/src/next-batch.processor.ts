import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { Stage } from '#osa/domain';
import { APP_CONFIG, ExhaustionService, IngestBatchService, StageProcessor } from '#osa/pipeline';
import { QueueName } from '#osa/queues';

@Processor(QueueName.NextBatch, { autorun: false })
export class NextBatchProcessor extends StageProcessor {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: IngestBatchService,
    exhaustion: ExhaustionService,
  ) {
    super(config, config.stages.ingester, Stage.Ingester, exhaustion);
  }

  protected handle(job: Job, signal: AbortSignal | undefined) {
    return this.service.ingest({ data: job.data, attempt: job.attemptsStarted, signal });
  }
}
