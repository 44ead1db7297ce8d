import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
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
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(ingestBatches.runId, batch.runId),
          eq(ingestBatches.batchIndex, batch.batchIndex),
          eq(ingestBatches.state, BatchState.Sourced),
        ),
      )
      .returning();
    return row;
  }

  async markPublished(tx: Executor, runId: string, batchIndex: number, publishedCount: number): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .update(ingestBatches)
      .set({ state: BatchState.Published, publishedCount, updatedAt: sql`now()` })
      .where(
        and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex), eq(ingestBatches.state, BatchState.Hooked)),
      )
      .returning();
    return row;
  }

  async markPublishedCount(tx: Executor, runId: string, batchIndex: number, publishedCount: number): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .update(ingestBatches)
      .set({ publishedCount })
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex)))
      .returning();
    return row;
  }

  /** Any open state → failed; undefined when the batch had already ended. */
  async markFailed(
    tx: Executor,
    runId: string,
    batchIndex: number,
    stage: string,
    failure: FailureRecord,
  ): Promise<IngestBatchRow | undefined> {
    const [row] = await tx
      .update(ingestBatches)
      .set({
        state: BatchState.Failed,
        failureStage: stage,
        failureReason: failure.reason,
        failureKind: failure.kind,
        failureLogs: failure.logTail,
        updatedAt: sql`now()`,
      })
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex), inArray(ingestBatches.state, OPEN)))
      .returning();
    return row;
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

  listForRun(db: Executor, runId: string): Promise<IngestBatchRow[]> {
    return db.select().from(ingestBatches).where(eq(ingestBatches.runId, runId)).orderBy(asc(ingestBatches.batchIndex));
  }

  listOpen(db: Executor, runId: string): Promise<IngestBatchRow[]> {
    return db
      .select()
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), inArray(ingestBatches.state, OPEN)))
      .orderBy(asc(ingestBatches.batchIndex));
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
