import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { APP_CONFIG, StageProcessor, StartIngestService } from '#osa/pipeline';
import { QueueName } from '#osa/queues';

@Injectable()
export class StartIngestProcessor extends StageProcessor {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: StartIngestService,
  ) {
    // A start request is retried like an ingester step; it has no batch to account.
    super(QueueName.StartIngest, config.stages.ingester);
  }

  handle(job: Job) {
    return this.service.start({ id: job.id!, timestamp: job.timestamp, data: job.data });
  }
}
