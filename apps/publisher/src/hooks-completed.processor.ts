import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { Stage } from '#osa/domain';
import { APP_CONFIG, PublishBatchService, StageProcessor } from '#osa/pipeline';
import { QueueName } from '#osa/queues';

@Injectable()
export class HooksCompletedProcessor extends StageProcessor {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: PublishBatchService,
  ) {
    super(QueueName.HooksCompleted, config.stages.publisher, Stage.Publisher);
  }

  handle(job: Job) {
    return this.service.publish({ data: job.data, attempt: job.attemptsStarted });
  }
}
