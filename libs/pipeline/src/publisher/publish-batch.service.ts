import path from 'node:path';
import { BatchState, HoldSignal } from '#osa/domain';
import type { Executor, RecordRepository, RunLedger } from '#osa/persistence';
import { QueueName } from '#osa/queues';
import { BatchLayout, readJsonLines } from '#osa/storage';
import type { StageJob } from '../ingester/ingest-batch.service.js';
import type { JobProducer } from '../jobs/job-producer.js';
import { loadStageBatch } from '../jobs/load-stage-batch.js';
import { strayJob } from '../jobs/pipeline-job.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';

export type PublishOutcome =
  { outcome: 'published'; published: number; completedRun: boolean } | { outcome: 'already-published' | 'batch-ended' | 'run-ended' };

/**
 * Records per statement, and a bound on a statement's size: large enough to amortize round
 * trips, small enough that a chunk's JSON stays a few MB whatever the record size.
 */
const CHUNK_RECORDS = 5000;
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Handles `ingest-hooks-completed`: publishes the records that passed every hook, set-based and
 * `ON CONFLICT DO NOTHING` on (convention, source id), in the transaction that accounts the
 * batch and, for the last batch, completes the run exactly once.
 */
export class PublishBatchService {
  constructor(
    private readonly ledger: RunLedger,
    private readonly records: RecordRepository,
    private readonly relay: OutboxRelay,
    private readonly producer: JobProducer,
    private readonly dataDir: string,
  ) {}

  async publish(job: StageJob): Promise<PublishOutcome> {
    const { run, batch } = await loadStageBatch(this.ledger, QueueName.HooksCompleted, job.data);
    const { runId, batchIndex } = batch;
    if (batch.state === BatchState.Published) return { outcome: 'already-published' };
    // Too early: the hooks have not finished with this batch, so this is not the job the hooks
    // stage adds. It fails alone; the batch's own job is added when the hooks are done.
    if (batch.state === BatchState.Sourced)
      throw strayJob(`batch ${batchIndex} of run ${runId} is still waiting for its hooks; it cannot be published yet`);
    if (batch.state !== BatchState.Hooked) return { outcome: 'batch-ended' };

    const passedFile = path.join(this.dataDir, BatchLayout.passedFile(runId, batchIndex, batch.hooksAttempt!));
    const target = { conventionId: run.conventionId, runId, batchIndex };
    const result = await this.ledger.recordPublished(runId, batchIndex, (tx) => this.insertAll(tx, passedFile, target));
    await this.relay.flush();
    if (result.runTerminal) return { outcome: 'run-ended' };
    if (!result.applied) return { outcome: 'already-published' };
    // Only a pull parked for downstream lag can go on because this batch was published.
    if (!result.completed && result.run?.waitingReason?.startsWith(HoldSignal.DownstreamLag)) {
      await this.producer.wakeDeferredPull(runId, await this.ledger.nextBatchIndex(runId));
    }
    return { outcome: 'published', published: result.batch?.publishedCount ?? 0, completedRun: result.completed };
  }

  /**
   * Streams passed.jsonl in chunks, each inserted with one statement. The lines are already JSON
   * objects shaped as the statement expects (the hooks stage wrote them), so they are joined
   * into a JSON array as they are, without parsing them in Node. One chunk is in flight while
   * the next is read, so reading the file overlaps the database's work.
   */
  private async insertAll(tx: Executor, file: string, target: { conventionId: string; runId: string; batchIndex: number }): Promise<number> {
    let published = 0;
    let inFlight: Promise<number> | undefined;
    const send = async (json: string) => {
      if (inFlight) published += await inFlight;
      inFlight = this.records.insertJsonChunk(tx, target, json);
      // Awaited before the next chunk or at the end; this only keeps a failure from being
      // reported as unhandled while the next chunk is being read.
      inFlight.catch(() => undefined);
    };
    let lines: string[] = [];
    let bytes = 0;
    try {
      for await (const line of readJsonLines(file)) {
        lines.push(line.text);
        bytes += line.byteLength;
        if (lines.length >= CHUNK_RECORDS || bytes >= CHUNK_BYTES) {
          await send(`[${lines.join(',')}]`);
          lines = [];
          bytes = 0;
        }
      }
      if (lines.length > 0) await send(`[${lines.join(',')}]`);
    } finally {
      if (inFlight) published += await inFlight;
    }
    return published;
  }
}
