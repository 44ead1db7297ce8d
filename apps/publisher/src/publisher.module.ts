import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { MetricsModule } from '#osa/observability';
import { RunReadModel } from '#osa/persistence';
import { HealthController, PipelineInfrastructureModule, provideStageWorkers, PublisherStageModule } from '#osa/pipeline';
import { HooksCompletedProcessor } from './hooks-completed.processor.js';

/** Consumes ingest-hooks-completed: publishes each batch and completes runs. Runs no container. */
@Module({})
export class PublisherModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: PublisherModule,
      imports: [
        PipelineInfrastructureModule.forRoot(config, 'publisher'),
        PublisherStageModule,
        MetricsModule.forRoot('publisher', { runsSource: RunReadModel, backpressureMaxWaitMs: config.backpressure.maxWaitMs }),
      ],
      controllers: [HealthController],
      providers: [HooksCompletedProcessor, provideStageWorkers(HooksCompletedProcessor)],
    };
  }
}
