import { Module } from '@nestjs/common';
import { RunLedger, RunReadModel } from '#osa/persistence';
import { JobProducer } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { ReplayService } from '../replay/replay.service.js';

/**
 * What the dashboard changes besides adding start jobs (the job producer does that): replaying
 * a run's failed batches. The dashboard imports it; it runs no stage, no container and no worker.
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
