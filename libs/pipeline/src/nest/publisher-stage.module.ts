import { Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { RecordRepository, RunLedger } from '#osa/persistence';
import { JobProducer } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { PublishBatchService } from '../publisher/publish-batch.service.js';
import { FailureAccountingModule } from './failure-accounting.module.js';
import { APP_CONFIG } from './tokens.js';

/** The publisher stage: publishes hooked batches and completes runs. It runs no container. */
@Module({
  imports: [FailureAccountingModule],
  providers: [
    {
      provide: PublishBatchService,
      useFactory: (config: AppConfig, ledger: RunLedger, records: RecordRepository, relay: OutboxRelay, producer: JobProducer) =>
        new PublishBatchService(ledger, records, relay, producer, config.dataDir),
      inject: [APP_CONFIG, RunLedger, RecordRepository, OutboxRelay, JobProducer],
    },
  ],
  exports: [PublishBatchService, FailureAccountingModule],
})
export class PublisherStageModule {}
