import { Module } from '@nestjs/common';
import type { DatabaseHandle } from '#osa/persistence';
import { DATABASE, JobProducer, OutboxRelay } from '#osa/pipeline';
import { ReplayService } from './replay/replay.service.js';

/**
 * What the dashboard changes besides adding start jobs (the job producer does that): replaying
 * a run's failed batches. It runs no stage and no container.
 */
@Module({
  providers: [
    {
      provide: ReplayService,
      useFactory: (h: DatabaseHandle, producer: JobProducer, relay: OutboxRelay) => new ReplayService(h.db, producer, relay),
      inject: [DATABASE, JobProducer, OutboxRelay],
    },
  ],
  exports: [ReplayService],
})
export class ControlPlaneModule {}
