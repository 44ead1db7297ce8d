import { Module } from '@nestjs/common';
import { RunLedger, RunReadModel } from '#osa/persistence';
import { JobProducer, OutboxRelay, ReplayService } from '#osa/pipeline';

/**
 * What the dashboard changes besides adding start jobs (the job producer does that): replaying
 * a run's failed batches. It runs no stage and no container.
 */
@Module({
  providers: [
    {
      provide: ReplayService,
      useFactory: (ledger: RunLedger, reads: RunReadModel, producer: JobProducer, relay: OutboxRelay) =>
        new ReplayService(ledger, reads, producer, relay),
      inject: [RunLedger, RunReadModel, JobProducer, OutboxRelay],
    },
  ],
  exports: [ReplayService],
})
export class ControlPlaneModule {}
