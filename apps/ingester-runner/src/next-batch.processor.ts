import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { Stage } from '#osa/domain';
import { APP_CONFIG, deferral, IngestBatchService, StageProcessor } from '#osa/pipeline';
import { RunLedger } from '#osa/persistence';
import { QueueName } from '#osa/queues';

@Injectable()
export class NextBatchProcessor extends StageProcessor {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: IngestBatchService,
    private readonly ledger: RunLedger,
  ) {
    super(QueueName.NextBatch, config.stages.ingester, Stage.Ingester);
  }

  async handle(job: Job, token: string | undefined, signal: AbortSignal | undefined) {
    // Each start writes to directories of its own, numbered by the database: BullMQ's start
    // counter restarts at 1 for a job added again while an earlier start may still run.
    const attempt = await this.ledger.nextAttempt('ingester');
    const result = await this.service.ingest({ data: job.data, attempt, signal });
    if (result.outcome === 'deferred') {
      const { hold, delayMs, runShortId, data } = result;
      this.logger.log(
        `run ${runShortId} batch ${data.batchIndex}: pull deferred ${delayMs / 1000}s (${data.deferrals}x) by ${hold.signal}: ${hold.message}`,
      );
      await job.updateData(data);
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw deferral(hold.signal);
    }
    if (result.outcome === 'backpressure-exhausted') {
      const { runId } = this.service.parse(job.data);
      this.logger.warn(`run ${runId.slice(0, 8)}: ingestion stopped by backpressure (${result.hold.signal}: ${result.hold.message})`);
    }
    return result;
  }
}
