import { Module } from '@nestjs/common';
import { RunLedger, RunReadModel } from '#osa/persistence';
import { ExhaustionService } from '../accounting/exhaustion.service.js';
import { JobProducer } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { ReconcilerService } from '../reconciler/reconciler.service.js';
import { FailureAccountingModule } from './failure-accounting.module.js';

/** The reconciler: makes sure every open batch of every active run has the job that moves it. */
@Module({
  imports: [FailureAccountingModule],
  providers: [
    {
      provide: ReconcilerService,
      useFactory: (reads: RunReadModel, ledger: RunLedger, producer: JobProducer, exhaustion: ExhaustionService, relay: OutboxRelay) =>
        new ReconcilerService(reads, ledger, producer, exhaustion, relay),
      inject: [RunReadModel, RunLedger, JobProducer, ExhaustionService, OutboxRelay],
    },
  ],
  exports: [ReconcilerService],
})
export class ReconcilerModule {}
