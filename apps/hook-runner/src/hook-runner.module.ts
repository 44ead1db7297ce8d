import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { MetricsModule } from '#osa/observability';
import { RunReadModel } from '#osa/persistence';
import { HealthController, HooksStageModule, PipelineInfrastructureModule, provideStageWorkers } from '#osa/pipeline';
import { BatchReadyProcessor } from './batch-ready.processor.js';

/** Consumes ingest-batch-ready: runs the convention's hooks on each batch. */
@Module({})
export class HookRunnerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: HookRunnerModule,
      imports: [
        PipelineInfrastructureModule.forRoot(config, 'hook-runner'),
        HooksStageModule,
        MetricsModule.forRoot('hook-runner', { runsSource: RunReadModel, backpressureMaxWaitMs: config.backpressure.maxWaitMs }),
      ],
      controllers: [HealthController],
      providers: [BatchReadyProcessor, provideStageWorkers(BatchReadyProcessor)],
    };
  }
}
