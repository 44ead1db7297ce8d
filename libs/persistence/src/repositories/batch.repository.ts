import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { BatchState, type FailureRecord, type HookCounts } from '#osa/domain';
import type { Executor } from '../database/database.js';
import { type IngestBatchRow, ingestBatches, type IngestRunRow, ingestRuns } from '../schema/tables.js';

export interface SourcedBatch {
  runId: string;
  batchIndex: number;
  ingesterAttempt: number;
  recordCount: number;
  invalidCount: number;
  hasMore: boolean;
  nextSession: unknown;
  /** When backpressure first held the pull that sourced the batch; omitted when it was not held. */
  waitedFrom?: Date;
}

export interface HookedBatch {
  runId: string;
  batchIndex: number;
  hooksAttempt: number;
  hookCounts: Record<string, HookCounts>;
  rejectedCount: number;
  erroredCount: number;
}

const OPEN = [BatchState.Sourced, BatchState.Hooked];
/** The state each stage's job consumes; its final failure may fail the batch only from there. */
const FAILABLE_BY_STAGE: Record<string, BatchState[]> = { hooks: [BatchState.Sourced], publisher: [BatchState.Hooked] };

/** The per-batch ledger. Each transition is one guarded statement that returns the row it moved. */
export class BatchRepository {
  find(db: Executor, runId: string, batchIndex: number): Promise<IngestBatchRow | undefined> {
    return db
      .select()
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex)))
      .then((rows) => rows[0]);
  }

  /** The run and, when the ledger has it, the batch: one round trip for the start of every stage step. */
  async findWithRun(db: Executor, runId: string, batchIndex: number): Promise<{ run: IngestRunRow; batch: IngestBatchRow | undefined } | undefined> {
    const [row] = await db
      .select({ run: ingestRuns, batch: ingestBatches })
      .from(ingestRuns)
      .leftJoin(ingestBatches, and(eq(ingestBatches.runId, ingestRuns.id), eq(ingestBatches.batchIndex, batchIndex)))
      .where(eq(ingestRuns.id, runId));
    return row ? { run: row.run, batch: row.batch ?? undefined } : undefined;
  }

  /** Inserts the batch as sourced (or empty); undefined when a previous attempt already did. */
  async insertSourced(tx: Executor, batch: SourcedBatch): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .insert(ingestBatches)
      .values({
        ...batch,
        nextSession: batch.nextSession ?? null,
        waitedFrom: batch.waitedFrom ?? null,
        state: batch.recordCount > 0 ? BatchState.Sourced : BatchState.Empty,
      })
      .onConflictDoNothing()
      .returning();
    return row;
  }

  /** The ingester's final failure: the batch never got sourced. */
  async insertFailed(tx: Executor, runId: string, batchIndex: number, failure: FailureRecord): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .insert(ingestBatches)
      .values({
        runId,
        batchIndex,
        state: BatchState.Failed,
        failureStage: 'ingester',
        failureReason: failure.reason,
        failureKind: failure.kind,
        failureLogs: failure.logTail,
        failedAt: sql`now()`,
      })
      .onConflictDoNothing()
      .returning();
    return row;
  }

  async markHooked(tx: Executor, batch: HookedBatch): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .update(ingestBatches)
      .set({
        state: BatchState.Hooked,
        hooksAttempt: batch.hooksAttempt,
        hookCounts: batch.hookCounts,
        rejectedCount: batch.rejectedCount,
        erroredCount: batch.erroredCount,
        hookedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(ingestBatches.runId, batch.runId), eq(ingestBatches.batchIndex, batch.batchIndex), eq(ingestBatches.state, BatchState.Sourced)))
      .returning();
    return row;
  }

  /**
   * Locks the batch row while it is hooked; false when it is not (published by an earlier
   * attempt, failed, or never hooked). A concurrent publisher of the same batch waits here and
   * then finds it published, so records are inserted only by the transaction that will move it.
   */
  async lockHooked(tx: Executor, runId: string, batchIndex: number): Promise<boolean> {
    const rows = await tx
      .select({ batchIndex: ingestBatches.batchIndex })
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex), eq(ingestBatches.state, BatchState.Hooked)))
      .for('update');
    return rows.length > 0;
  }

  /** hooked → published with the number of records the publish inserted; the row is locked by lockHooked. */
  async markPublished(tx: Executor, runId: string, batchIndex: number, publishedCount: number): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .update(ingestBatches)
      .set({ state: BatchState.Published, publishedCount, publishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex), eq(ingestBatches.state, BatchState.Hooked)))
      .returning();
    return row;
  }

  /**
   * The state → failed for the stage that failed: the hooks fail only a sourced batch, the
   * publisher only a hooked one (so a late or stray failure never takes a batch from the stage
   * that holds it); undefined when the batch is not there.
   */
  async markFailed(tx: Executor, runId: string, batchIndex: number, stage: string, failure: FailureRecord): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .update(ingestBatches)
      .set({
        state: BatchState.Failed,
        failureStage: stage,
        failureReason: failure.reason,
        failureKind: failure.kind,
        failureLogs: failure.logTail,
        failedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(
        and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex), inArray(ingestBatches.state, FAILABLE_BY_STAGE[stage] ?? OPEN)),
      )
      .returning();
    return row;
  }

  /**
   * Whether batch n is the run's next batch to source: ingestion is open and n is 0 or follows a
   * batch that left a session. Locks the run row, so the answer holds until the transaction ends.
   */
  async isNextToSource(tx: Executor, runId: string, batchIndex: number): Promise<boolean> {
    const result = await tx.execute<{ next: boolean }>(sql`
      SELECT NOT r.ingestion_finished
             AND (${batchIndex}::int = 0 OR EXISTS (
               SELECT 1 FROM ingest_batches b
               WHERE b.run_id = r.id AND b.batch_index = ${batchIndex}::int - 1 AND b.has_more)) AS next
      FROM ingest_runs r WHERE r.id = ${runId} FOR UPDATE`);
    return result.rows[0]?.next === true;
  }

  /**
   * A number for one start of a stage step that writes output (the ingester's or the hooks'),
   * unique across every job and start: it names the start's output directory, so two starts of
   * one batch (however their jobs came to be) never write to the same place. The batch row
   * records the one that committed.
   */
  async nextAttempt(db: Executor, stage: 'ingester' | 'hooks'): Promise<number> {
    const sequence = stage === 'ingester' ? sql`'ingester_attempt_seq'` : sql`'hooks_attempt_seq'`;
    const result = await db.execute<{ attempt: number }>(sql`SELECT nextval(${sequence})::int AS attempt`);
    return result.rows[0]!.attempt;
  }

  /** Records sourced by the batches before `batchIndex`: what remains of the run's limit. */
  async recordsBefore(db: Executor, runId: string, batchIndex: number): Promise<number> {
    const [row] = await db
      .select({ total: sql<number>`coalesce(sum(${ingestBatches.recordCount}), 0)::int` })
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), lt(ingestBatches.batchIndex, batchIndex)));
    return row?.total ?? 0;
  }

  /** The highest batch index the ledger knows for the run, or -1. */
  async lastIndex(db: Executor, runId: string): Promise<number> {
    const [row] = await db
      .select({ last: sql<number>`coalesce(max(${ingestBatches.batchIndex}), -1)::int` })
      .from(ingestBatches)
      .where(eq(ingestBatches.runId, runId));
    return row?.last ?? -1;
  }

  /** How many of this run's batches wait for hooks or publishing (downstream lag). */
  async countOpen(db: Executor, runId: string): Promise<number> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), inArray(ingestBatches.state, OPEN)));
    return row?.n ?? 0;
  }
}
