import { Module } from '@nestjs/common';
import { RunLedger } from '#osa/persistence';
import { ExhaustionService } from '../accounting/exhaustion.service.js';
import { JobProducer } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';

/** Accounts a stage job that has finally failed: for the stage workers and the reconciler. */
@Module({
  providers: [
    {
      provide: ExhaustionService,
      useFactory: (ledger: RunLedger, relay: OutboxRelay, producer: JobProducer) => new ExhaustionService(ledger, relay, producer),
      inject: [RunLedger, OutboxRelay, JobProducer],
    },
  ],
  exports: [ExhaustionService],
})
export class FailureAccountingModule {}
