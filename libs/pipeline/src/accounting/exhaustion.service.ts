import { ErrorKind, type FailureRecord, Stage } from '#osa/domain';
import type { LedgerResult, RunLedger } from '#osa/persistence';
import { batchJobPayloadSchema } from '#osa/queues';
import type { JobProducer } from '../jobs/job-producer.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';

/**
 * What happens when a stage's job has finally failed (permanent error, attempts spent, stall
 * limit). The ingester stage fails the ingestion, the hook and publish stages fail the batch.
 * Idempotent through the ledger, so the in-process `failed` handler and the reconciler may both
 * call it. A stray job's failure is never accounted, and the ledger itself refuses a failure
 * for a batch that is not where that stage's job would be: the ingester's only for the run's
 * next unsourced batch while ingestion is open, the hooks' only for a sourced batch, the
 * publisher's only for a hooked one.
 */
export class ExhaustionService {
  constructor(
    private readonly ledger: RunLedger,
    private readonly relay: OutboxRelay,
    private readonly producer: JobProducer,
  ) {}

  async accountFinalFailure(stage: Stage, data: unknown, failure: FailureRecord): Promise<LedgerResult | undefined> {
    if (failure.kind === ErrorKind.StrayJob) return undefined;
    const parsed = batchJobPayloadSchema.safeParse(data);
    // A payload that never named a batch has nothing to account; its job keeps the reason.
    if (!parsed.success) return undefined;
    const { runId, batchIndex } = parsed.data;
    if (!(await this.ledger.findRunAndBatch(runId, batchIndex))) return undefined;
    const result =
      stage === Stage.Ingester
        ? await this.ledger.failIngestion(runId, batchIndex, failure)
        : await this.ledger.failBatch(runId, batchIndex, stage, failure);
    await this.relay.flush();
    // A failed batch no longer waits downstream: a pull held for lag may go on.
    if (result.applied && !result.completed && stage !== Stage.Ingester) {
      await this.producer.wakeDeferredPull(runId, await this.ledger.nextBatchIndex(runId));
    }
    return result;
  }
}
