import type { Database } from '#osa/persistence';
import { type ReplayOutcome, ReplayRepository, type ReplayRequest } from '#osa/persistence';
import type { JobProducer, OutboxRelay } from '#osa/pipeline';
import { JobId, QueueName } from '#osa/queues';

export type ReplayResult = ReplayOutcome & { requeued?: Array<{ batchIndex: number; queue: string; jobId: string }> };

/** Job states that must not linger under a replayed batch's deterministic id. */
const FINISHED = new Set(['failed', 'completed']);

/**
 * Replays a run's failed batches in three steps, each safe to interrupt:
 * 1. remove the finished jobs under the batches' deterministic ids (a failed one would make the
 *    reconciler account the reopened batch as failed again; any finished one would swallow the
 *    re-add). The ledger, not the job, keeps the failure reason and logs.
 * 2. reset the ledger (ReplayRepository: one transaction, run row locked).
 * 3. add each batch's job again with its deterministic id.
 * A crash after 1 leaves failed batches without old jobs: nothing changes. A crash after 2
 * leaves open batches without jobs: the reconciler adds the same jobs, as for any vanished job.
 */
export class ReplayService {
  constructor(
    private readonly db: Database,
    private readonly producer: JobProducer,
    private readonly relay: OutboxRelay,
    private readonly replays = new ReplayRepository(),
  ) {}

  async replay(request: ReplayRequest): Promise<ReplayResult> {
    const { runId } = request;
    for (const batchIndex of await this.replays.listReplayable(this.db, runId, request.batchIndexes)) {
      await this.removeFinished(QueueName.BatchReady, JobId.batchReady(runId, batchIndex));
      await this.removeFinished(QueueName.HooksCompleted, JobId.hooksCompleted(runId, batchIndex));
    }
    const outcome = await this.replays.reopenFailedBatches(this.db, request);
    if (outcome.outcome !== 'replayed') return outcome;
    const requeued: NonNullable<ReplayResult['requeued']> = [];
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
