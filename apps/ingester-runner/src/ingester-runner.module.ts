import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { MetricsModule } from '#osa/observability';
import { RunReadModel } from '#osa/persistence';
import { HealthController, IngesterStageModule, PipelineInfrastructureModule, provideStageWorkers, ReconcilerModule } from '#osa/pipeline';
import { NextBatchProcessor } from './next-batch.processor.js';
import { ReconcilerLoop } from './reconciler.loop.js';
import { StartIngestProcessor } from './start-ingest.processor.js';

/** Consumes start-ingest and ingest-next-batch; runs the reconciler and the outbox relay timers. */
@Module({})
export class IngesterRunnerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: IngesterRunnerModule,
      imports: [
        PipelineInfrastructureModule.forRoot(config, 'ingester-runner'),
        IngesterStageModule,
        ReconcilerModule,
        MetricsModule.forRoot('ingester-runner', { runsSource: RunReadModel, backpressureMaxWaitMs: config.backpressure.maxWaitMs }),
      ],
      controllers: [HealthController],
      providers: [StartIngestProcessor, NextBatchProcessor, provideStageWorkers(StartIngestProcessor, NextBatchProcessor), ReconcilerLoop],
    };
  }
}
