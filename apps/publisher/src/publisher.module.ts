import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { MetricsModule } from '#osa/observability';
import { DATABASE, HealthController, PipelineCoreModule } from '#osa/pipeline';
import { HooksCompletedProcessor } from './hooks-completed.processor.js';

/** Consumes ingest-hooks-completed: publishes each batch and completes runs. */
@Module({})
export class PublisherModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: PublisherModule,
      imports: [PipelineCoreModule.forRoot(config, 'publisher'), MetricsModule.forRoot('publisher', { databaseToken: DATABASE })],
      controllers: [HealthController],
      providers: [HooksCompletedProcessor],
    };
  }
}
