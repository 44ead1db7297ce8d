import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { MetricsModule } from '#osa/observability';
import { DATABASE, HealthController, PipelineCoreModule } from '#osa/pipeline';
import { NextBatchProcessor } from './next-batch.processor.js';
import { ReconcilerLoop } from './reconciler.loop.js';
import { StartIngestProcessor } from './start-ingest.processor.js';

/** Consumes start-ingest and ingest-next-batch; runs the reconciler. */
@Module({})
export class IngesterRunnerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: IngesterRunnerModule,
      imports: [PipelineCoreModule.forRoot(config, 'ingester-runner'), MetricsModule.forRoot('ingester-runner', { databaseToken: DATABASE })],
      controllers: [HealthController],
      providers: [StartIngestProcessor, NextBatchProcessor, ReconcilerLoop],
    };
  }
}
