import type { Job } from 'bullmq';
import { BatchState, ErrorKind, type FailureRecord, Stage } from '#osa/domain';
import type { IngestRunRow, RunLedger, RunReadModel } from '#osa/persistence';
import { JobId, parseFailedReason, QueueName } from '#osa/queues';
import type { ExhaustionService } from '../accounting/exhaustion.service.js';
import type { JobProducer } from '../jobs/job-producer.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';

export interface ReconcileReport {
  runs: number;
  accounted: number;
  requeued: number;
  completed: number;
}

/**
 * Makes every active run move, whatever was lost in a crash: for each batch the ledger still
 * waits on, the job that should move it must exist; a job that finally failed without its
 * accounting is accounted now, and a job that vanished, or finished without moving the batch,
 * is added again.
 */
export class ReconcilerService {
  constructor(
    private readonly reads: RunReadModel,
    private readonly ledger: RunLedger,
    private readonly producer: JobProducer,
    private readonly exhaustion: ExhaustionService,
    private readonly relay: OutboxRelay,
  ) {}

  async reconcileOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { runs: 0, accounted: 0, requeued: 0, completed: 0 };
    for (const run of await this.reads.listActiveRuns()) {
      report.runs++;
      await this.reconcileRun(run, report);
    }
    await this.relay.flush();
    await this.relay.trim();
    return report;
  }

  private async reconcileRun(run: IngestRunRow, report: ReconcileReport): Promise<void> {
    const batches = await this.reads.batchRows(run.id);
    for (const batch of batches) {
      if (batch.state === BatchState.Sourced) {
        await this.ensure(report, QueueName.BatchReady, JobId.batchReady(run.id, batch.batchIndex), Stage.Hooks, run.id, batch.batchIndex, () =>
          this.producer.batchReady(run.id, batch.batchIndex),
        );
      } else if (batch.state === BatchState.Hooked) {
        await this.ensure(
          report,
          QueueName.HooksCompleted,
          JobId.hooksCompleted(run.id, batch.batchIndex),
          Stage.Publisher,
          run.id,
          batch.batchIndex,
          () => this.producer.hooksCompleted(run.id, batch.batchIndex),
        );
      }
    }
    if (!run.ingestionFinished) {
      const last = batches.at(-1);
      const next = last ? last.batchIndex + 1 : 0;
      if (!last || last.hasMore) {
        await this.ensure(report, QueueName.NextBatch, JobId.nextBatch(run.id, next), Stage.Ingester, run.id, next, () =>
          this.producer.requestBatch(run.id, next),
        );
      }
    }
    if (await this.ledger.completeIfDone(run.id)) report.completed++;
  }

  private async ensure(
    report: ReconcileReport,
    queue: QueueName,
    jobId: string,
    stage: Stage,
    runId: string,
    batchIndex: number,
    add: () => Promise<void>,
  ): Promise<void> {
    const job: Job | undefined = await this.producer.queues[queue].getJob(jobId);
    if (!job) {
      await add();
      report.requeued++;
      return;
    }
    const state = await job.getState();
    if (state !== 'failed' && state !== 'completed') return;
    const { kind, message } = parseFailedReason(job.failedReason);
    if (state === 'failed' && kind !== ErrorKind.StrayJob) {
      // BullMQ keeps the error's stack, not the container's log lines: a stack shows the
      // service's code and host paths, nothing the run's operators can act on.
      const failure: FailureRecord = {
        kind: (kind as FailureRecord['kind'] | undefined) ?? ErrorKind.RetriesExhausted,
        reason: message,
        logTail: [],
      };
      const result = await this.exhaustion.accountFinalFailure(stage, { runId, batchIndex }, failure);
      if (result?.applied || result?.runTerminal) {
        if (result.applied) report.accounted++;
        return;
      }
    }
    // The ledger still waits on this stage, but the job under the batch's id has finished
    // without moving it: a stray job that took the id before the batch got here, a failure the
    // ledger refused, or a step that completed just after the ledger was read (repeating it is
    // safe). Its id would make every re-add a no-op, so it is replaced.
    await job.remove().catch(() => undefined);
    await add();
    report.requeued++;
  }
}
