import { Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { StageMetrics } from '#osa/observability';
import { ConventionRepository, type DatabaseHandle, RunLedger } from '#osa/persistence';
import { CONTAINER_RUNNER, type ContainerRunner } from '#osa/runners';
import { BackpressureGate } from '../ingester/backpressure.gate.js';
import { IngestBatchService } from '../ingester/ingest-batch.service.js';
import { JobProducer } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { StartIngestService } from '../start/start-ingest.service.js';
import { ContainerRunnerModule } from './container-runner.module.js';
import { FailureAccountingModule } from './failure-accounting.module.js';
import { APP_CONFIG, DATABASE } from './tokens.js';

/** The ingester stage: creates runs from start jobs and runs the ingester batch by batch. */
@Module({
  imports: [ContainerRunnerModule, FailureAccountingModule],
  providers: [
    {
      provide: StartIngestService,
      useFactory: (h: DatabaseHandle, ledger: RunLedger, conventions: ConventionRepository, producer: JobProducer, relay: OutboxRelay) =>
        new StartIngestService(h.db, ledger, conventions, producer, relay),
      inject: [DATABASE, RunLedger, ConventionRepository, JobProducer, OutboxRelay],
    },
    {
      provide: IngestBatchService,
      useFactory: (
        config: AppConfig,
        ledger: RunLedger,
        runner: ContainerRunner,
        producer: JobProducer,
        relay: OutboxRelay,
        metrics?: StageMetrics,
      ) =>
        new IngestBatchService(
          ledger,
          runner,
          producer,
          relay,
          config.dataDir,
          new BackpressureGate(ledger, runner, config.backpressure),
          config.backpressure,
          config.containerOutput,
          metrics,
        ),
      // Ingester container runs are counted when the service has metrics.
      inject: [APP_CONFIG, RunLedger, CONTAINER_RUNNER, JobProducer, OutboxRelay, { token: StageMetrics, optional: true }],
    },
  ],
  exports: [StartIngestService, IngestBatchService, FailureAccountingModule],
})
export class IngesterStageModule {}
