import { Module } from '@nestjs/common';
import { type DatabaseHandle, RunLedger } from '#osa/persistence';
import { ExhaustionService } from '../accounting/exhaustion.service.js';
import { JobProducer } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { ReconcilerService } from '../reconciler/reconciler.service.js';
import { FailureAccountingModule } from './failure-accounting.module.js';
import { DATABASE } from './tokens.js';

/** The reconciler: makes sure every open batch of every active run has the job that moves it. */
@Module({
  imports: [FailureAccountingModule],
  providers: [
    {
      provide: ReconcilerService,
      useFactory: (h: DatabaseHandle, ledger: RunLedger, producer: JobProducer, exhaustion: ExhaustionService, relay: OutboxRelay) =>
        new ReconcilerService(h.db, ledger, producer, exhaustion, relay),
      inject: [DATABASE, RunLedger, JobProducer, ExhaustionService, OutboxRelay],
    },
  ],
  exports: [ReconcilerService],
})
export class ReconcilerModule {}
