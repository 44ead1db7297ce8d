import path from 'node:path';
import { BatchState, ErrorKind, PermanentError } from '#osa/domain';
import type { Database, Executor, PublishableRecord, RecordRepository, RunLedger } from '#osa/persistence';
import { batchJobPayloadSchema, parsePayload, QueueName } from '#osa/queues';
import { BatchLayout, readJsonLines } from '#osa/storage';
import type { StageJob } from '../ingester/ingest-batch.service.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';

export type PublishOutcome =
  | { outcome: 'published'; published: number; completedRun: boolean }
  | { outcome: 'already-published' | 'batch-ended' | 'run-ended' };

/** Rows per INSERT: large enough to amortize round trips, small enough for Postgres' parameter limit. */
const CHUNK = 1000;

/**
 * Handles `ingest-hooks-completed`: publishes the records that passed every hook, set-based and
 * `ON CONFLICT DO NOTHING` on (convention, source id), in the transaction that accounts the
 * batch and, for the last batch, completes the run exactly once.
 */
export class PublishBatchService {
  constructor(
    private readonly db: Database,
    private readonly ledger: RunLedger,
    private readonly records: RecordRepository,
    private readonly relay: OutboxRelay,
    private readonly dataDir: string,
  ) {}

  async publish(job: StageJob): Promise<PublishOutcome> {
    const { runId, batchIndex } = parsePayload(batchJobPayloadSchema, job.data, QueueName.HooksCompleted);
    const run = await this.ledger.runs.find(this.db, runId);
    if (!run) throw new PermanentError(`run ${runId} does not exist`, ErrorKind.InvalidPayload);
    const batch = await this.ledger.batches.find(this.db, runId, batchIndex);
    if (!batch) throw new PermanentError(`batch ${batchIndex} of run ${runId} was never sourced`, ErrorKind.InvalidPayload);
    if (batch.state === BatchState.Published) return { outcome: 'already-published' };
    if (batch.state !== BatchState.Hooked) return { outcome: 'batch-ended' };

    const passedFile = path.join(this.dataDir, BatchLayout.passedFile(runId, batchIndex, batch.hooksAttempt!));
    const target = { conventionId: run.conventionId, runId, batchIndex };
    const result = await this.ledger.recordPublished(runId, batchIndex, (tx) => this.insertAll(tx, passedFile, target));
    await this.relay.flush();
    if (result.runTerminal) return { outcome: 'run-ended' };
    if (!result.applied) return { outcome: 'already-published' };
    return { outcome: 'published', published: result.batch?.publishedCount ?? 0, completedRun: result.completed };
  }

  private async insertAll(tx: Executor, file: string, target: { conventionId: string; runId: string; batchIndex: number }): Promise<number> {
    let published = 0;
    let chunk: PublishableRecord[] = [];
    for await (const line of readJsonLines(file)) {
      const r = JSON.parse(line.text) as { source_id: string; metadata: Record<string, unknown>; files: unknown[]; features: Record<string, unknown[]> };
      chunk.push({ sourceId: r.source_id, metadata: r.metadata, files: r.files, features: r.features });
      if (chunk.length >= CHUNK) {
        published += await this.records.insertChunk(tx, target, chunk);
        chunk = [];
      }
    }
    published += await this.records.insertChunk(tx, target, chunk);
    return published;
  }
}
