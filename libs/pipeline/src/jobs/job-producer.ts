import type { Queue } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { JobId, JobName, QueueName, stageJobOptions } from '#osa/queues';

export type QueueSet = Record<QueueName, Queue>;

/**
 * Adds the pipeline's stage jobs with deterministic ids and explicit options. Adding an id
 * that exists is a no-op in BullMQ, so every step can re-add its downstream job after a crash.
 */
export class JobProducer {
  constructor(
    readonly queues: QueueSet,
    private readonly config: AppConfig,
  ) {}

  /**
   * Each batch is its own trace: the pull starts from no context (omitContext), so batch n+1's
   * job does not become a child of batch n's and a long run is not one ever-growing trace. The
   * `add` span stays in the trace that asked for the batch; runId and batchIndex on every span
   * tie a run's traces together.
   */
  async requestBatch(runId: string, batchIndex: number): Promise<void> {
    await this.queues[QueueName.NextBatch].add(
      JobName.NextBatch,
      { runId, batchIndex },
      { ...stageJobOptions(JobId.nextBatch(runId, batchIndex), this.config.stages.ingester.retry.attempts), telemetry: { omitContext: true } },
    );
  }

  /**
   * Wakes a pull that backpressure parked (a delayed next-batch job), because a batch left the
   * downstream stages. A pull that is not delayed is left alone.
   */
  async wakeDeferredPull(runId: string, nextBatchIndex: number): Promise<void> {
    const job = await this.queues[QueueName.NextBatch].getJob(JobId.nextBatch(runId, nextBatchIndex));
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  async batchReady(runId: string, batchIndex: number): Promise<void> {
    await this.queues[QueueName.BatchReady].add(
      JobName.BatchReady,
      { runId, batchIndex },
      stageJobOptions(JobId.batchReady(runId, batchIndex), this.config.stages.hooks.retry.attempts),
    );
  }

  async hooksCompleted(runId: string, batchIndex: number): Promise<void> {
    await this.queues[QueueName.HooksCompleted].add(
      JobName.HooksCompleted,
      { runId, batchIndex },
      stageJobOptions(JobId.hooksCompleted(runId, batchIndex), this.config.stages.publisher.retry.attempts),
    );
  }
}
