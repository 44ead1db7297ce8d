import type { ReplayOutcome, ReplayRequest, RunLedger, RunReadModel } from '#osa/persistence';
import { JobId, QueueName } from '#osa/queues';
import type { JobProducer } from '../jobs/job-producer.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';

export interface RequeuedBatch {
  batchIndex: number;
  queue: QueueName;
  jobId: string;
}

export type ReplayResult = ReplayOutcome & { requeued?: RequeuedBatch[] };

/** Job states that must not linger under a replayed batch's deterministic id. */
const FINISHED = new Set(['failed', 'completed']);

/**
 * Replays a run's failed batches (the dashboard API and the CLI both call it) in three steps,
 * each safe to interrupt:
 * 1. remove the finished jobs under the batches' deterministic ids (a failed one would make the
 *    reconciler account the reopened batch as failed again; any finished one would swallow the
 *    re-add). The ledger, not the job, keeps the failure reason and logs.
 * 2. reset the ledger (RunLedger.reopenFailedBatches: one transaction, run row locked).
 * 3. add each batch's job again with its deterministic id.
 * A crash after 1 leaves failed batches without old jobs: nothing changes. A crash after 2
 * leaves open batches without jobs: the reconciler adds the same jobs, as for any vanished job.
 */
export class ReplayService {
  constructor(
    private readonly ledger: RunLedger,
    private readonly reads: RunReadModel,
    private readonly producer: JobProducer,
    private readonly relay: OutboxRelay,
  ) {}

  async replay(request: ReplayRequest): Promise<ReplayResult> {
    const { runId } = request;
    for (const batchIndex of await this.reads.replayableBatchIndexes(runId, request.batchIndexes)) {
      await this.removeFinished(QueueName.BatchReady, JobId.batchReady(runId, batchIndex));
      await this.removeFinished(QueueName.HooksCompleted, JobId.hooksCompleted(runId, batchIndex));
    }
    const outcome = await this.ledger.reopenFailedBatches(request);
    if (outcome.outcome !== 'replayed') return outcome;
    const requeued: RequeuedBatch[] = [];
    for (const { batchIndex, state } of outcome.batches) {
      if (state === 'sourced') {
        await this.producer.batchReady(runId, batchIndex);
        requeued.push({ batchIndex, queue: QueueName.BatchReady, jobId: JobId.batchReady(runId, batchIndex) });
      } else {
        await this.producer.hooksCompleted(runId, batchIndex);
        requeued.push({ batchIndex, queue: QueueName.HooksCompleted, jobId: JobId.hooksCompleted(runId, batchIndex) });
      }
    }
    await this.relay.flush();
    return { ...outcome, requeued };
  }

  private async removeFinished(queue: QueueName, jobId: string): Promise<void> {
    const job = await this.producer.queues[queue].getJob(jobId);
    if (job && FINISHED.has(await job.getState())) await job.remove();
  }
}
