import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { type FailureRecord, ingestCompleted, ingestRunStarted, RunStatus } from '#osa/domain';
import type { Executor } from '../database/database.js';
import { type IngestRunRow, ingestRuns } from '../schema/tables.js';
import { OutboxRepository } from './outbox.repository.js';

const ACTIVE = [RunStatus.Pending, RunStatus.Running];

/** deferred_ms plus the current wait so far (whole ms, rounded down, so waits never add up to more than the run took). */
const deferredWithCurrentWait = sql`${ingestRuns.deferredMs} + coalesce(greatest(0, floor(extract(epoch from now() - ${ingestRuns.waitingSince}) * 1000)::bigint), 0)`;

/** Ends the current backpressure wait: counts the time it took and clears why. */
const endWait = {
  deferredMs: deferredWithCurrentWait,
  waitingSince: null,
  waitingReason: null,
  pullHeldSince: null,
  backpressureWaitSince: null,
} as const;

export interface NewRun {
  id: string;
  conventionId: string;
  startJobId: string;
  convention: IngestRunRow['convention'];
  batchSize: number;
  recordLimit: number | null;
}

export type CreateRunOutcome =
  | { outcome: 'created'; run: IngestRunRow }
  /** The same start job ran before (a retry or a stall): its run is returned, nothing is created. */
  | { outcome: 'existing'; run: IngestRunRow }
  | { outcome: 'active-run-exists'; activeRunId: string | undefined };

/** The clocks of a held pull, as its job carries them. */
export interface DeferredPullWait {
  /** When the pull was first held, by any signal. */
  heldSince: Date;
  /** When the wait that BACKPRESSURE_MAX_WAIT_MS bounds began; undefined while only the failure breaker holds the pull. */
  boundedSince?: Date;
}

/** Counter changes applied together with a ledger transition. */
export interface RunCounterDelta {
  batchesIngested?: number;
  batchesPublished?: number;
  batchesFailed?: number;
  recordsSourced?: number;
  publishedCount?: number;
  rejectedCount?: number;
  erroredCount?: number;
  invalidCount?: number;
  finishIngestion?: boolean;
  failure?: FailureRecord;
}

/** The run row after a guarded change, or the news that the run had already ended. */
export type RunUpdate = { terminal: false; run: IngestRunRow } | { terminal: true; run: IngestRunRow | undefined };

/** Thrown inside a transaction to roll back a ledger transition whose run had already ended. */
export class RunTerminalError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} has already ended`);
    this.name = 'RunTerminalError';
  }
}

/**
 * IngestRun persistence. Every change is one guarded statement (`UPDATE … WHERE status IN
 * active RETURNING`) so concurrent stage steps never lose an update and never revive an ended
 * run; callers pair each counter change with a ledger transition in the same transaction.
 */
export class IngestRunRepository {
  constructor(private readonly outbox = new OutboxRepository()) {}

  async create(db: Executor, run: NewRun): Promise<CreateRunOutcome> {
    return db.transaction(async (tx) => {
      const [existing] = await tx.select().from(ingestRuns).where(eq(ingestRuns.startJobId, run.startJobId));
      if (existing) return { outcome: 'existing', run: existing };
      const [created] = await tx
        .insert(ingestRuns)
        .values({ ...run, status: RunStatus.Pending })
        .onConflictDoNothing()
        .returning();
      if (!created) {
        const [racer] = await tx.select().from(ingestRuns).where(eq(ingestRuns.startJobId, run.startJobId));
        if (racer) return { outcome: 'existing', run: racer };
        const [active] = await tx
          .select({ id: ingestRuns.id })
          .from(ingestRuns)
          .where(and(eq(ingestRuns.conventionId, run.conventionId), inArray(ingestRuns.status, ACTIVE)));
        return { outcome: 'active-run-exists', activeRunId: active?.id };
      }
      await this.outbox.append(
        tx,
        ingestRunStarted({ runId: created.id, conventionId: created.conventionId, batchSize: created.batchSize, limit: created.recordLimit }),
      );
      return { outcome: 'created', run: created };
    });
  }

  async find(db: Executor, runId: string): Promise<IngestRunRow | undefined> {
    const [row] = await db.select().from(ingestRuns).where(eq(ingestRuns.id, runId));
    return row;
  }

  /** pending → running; a no-op for a run that is already running or has ended. */
  async markRunning(db: Executor, runId: string): Promise<RunUpdate> {
    const [row] = await db
      .update(ingestRuns)
      .set({ status: RunStatus.Running, startedAt: sql`coalesce(${ingestRuns.startedAt}, now())`, updatedAt: sql`now()` })
      .where(and(eq(ingestRuns.id, runId), inArray(ingestRuns.status, ACTIVE)))
      .returning();
    return row ? { terminal: false, run: row } : { terminal: true, run: await this.find(db, runId) };
  }

  /**
   * Applies counter changes to an active run. Inside a transaction whose ledger transition must
   * not survive when the run has ended, pass `rollbackIfTerminal` to throw RunTerminalError.
   */
  async applyDelta(db: Executor, runId: string, delta: RunCounterDelta): Promise<RunUpdate> {
    const add = (column: AnyPgColumn, by = 0) => sql`${column} + ${by}`;
    const [row] = await db
      .update(ingestRuns)
      .set({
        status: RunStatus.Running,
        startedAt: sql`coalesce(${ingestRuns.startedAt}, now())`,
        batchesIngested: add(ingestRuns.batchesIngested, delta.batchesIngested),
        batchesPublished: add(ingestRuns.batchesPublished, delta.batchesPublished),
        batchesFailed: add(ingestRuns.batchesFailed, delta.batchesFailed),
        recordsSourced: add(ingestRuns.recordsSourced, delta.recordsSourced),
        publishedCount: add(ingestRuns.publishedCount, delta.publishedCount),
        rejectedCount: add(ingestRuns.rejectedCount, delta.rejectedCount),
        erroredCount: add(ingestRuns.erroredCount, delta.erroredCount),
        invalidCount: add(ingestRuns.invalidCount, delta.invalidCount),
        // A finished ingestion no longer waits to pull (backpressure may be what finished it).
        ...(delta.finishIngestion
          ? { ingestionFinished: true, ingestionFinishedAt: sql`coalesce(${ingestRuns.ingestionFinishedAt}, now())`, ...endWait }
          : {}),
        ...(delta.failure ? { failureReason: delta.failure.reason, failureKind: delta.failure.kind } : {}),
        updatedAt: sql`now()`,
      })
      .where(and(eq(ingestRuns.id, runId), inArray(ingestRuns.status, ACTIVE)))
      .returning();
    return row ? { terminal: false, run: row } : { terminal: true, run: await this.find(db, runId) };
  }

  /** Like applyDelta, but rolls back the surrounding transaction when the run has ended. */
  async applyDeltaOrRollback(tx: Executor, runId: string, delta: RunCounterDelta): Promise<IngestRunRow> {
    const update = await this.applyDelta(tx, runId, delta);
    if (update.terminal) throw new RunTerminalError(runId);
    return update.run;
  }

  /**
   * Completes the run exactly once: only the caller whose guarded UPDATE returns the row
   * writes IngestCompleted (with a deterministic id) to the outbox, in the same transaction.
   */
  async completeIfDone(tx: Executor, runId: string): Promise<IngestRunRow | undefined> {
    const [row] = await tx
      .update(ingestRuns)
      .set({ status: RunStatus.Completed, completedAt: sql`now()`, ...endWait, updatedAt: sql`now()` })
      .where(
        and(
          eq(ingestRuns.id, runId),
          inArray(ingestRuns.status, ACTIVE),
          eq(ingestRuns.ingestionFinished, true),
          sql`${ingestRuns.batchesPublished} + ${ingestRuns.batchesFailed} >= ${ingestRuns.batchesIngested}`,
        ),
      )
      .returning();
    if (!row) return undefined;
    // A replayed run completes again: its second IngestCompleted needs an id of its own.
    const previous = await this.outbox.count(tx, runId, 'IngestCompleted');
    await this.outbox.append(
      tx,
      ingestCompleted(
        {
          runId,
          conventionId: row.conventionId,
          batchesIngested: row.batchesIngested,
          batchesPublished: row.batchesPublished,
          batchesFailed: row.batchesFailed,
          published: row.publishedCount,
          failureReason: row.failureReason,
          failureKind: row.failureKind,
        },
        previous + 1,
      ),
    );
    return row;
  }

  /**
   * Records a deferral and why the ingester waits (backpressure), for operators. The wait is
   * measured, not planned: the time since the previous deferral of the same wait is added, and
   * clearWaiting or the end of the ingestion adds the rest. The held pull's own clocks (when it
   * was first held, when its bounded wait began) come from its job, which carries them from
   * deferral to deferral.
   */
  async recordDeferral(db: Executor, runId: string, reason: string, wait: DeferredPullWait): Promise<IngestRunRow | undefined> {
    const [row] = await db
      .update(ingestRuns)
      .set({
        deferrals: sql`${ingestRuns.deferrals} + 1`,
        deferredMs: deferredWithCurrentWait,
        waitingSince: sql`now()`,
        waitingReason: reason,
        pullHeldSince: wait.heldSince,
        backpressureWaitSince: wait.boundedSince ?? null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(ingestRuns.id, runId), inArray(ingestRuns.status, ACTIVE)))
      .returning();
    return row;
  }

  /** The failure breaker tripped: pause pulling until `until`. */
  async pause(db: Executor, runId: string, until: Date, reason: string): Promise<IngestRunRow | undefined> {
    const [row] = await db
      .update(ingestRuns)
      .set({ pausedUntil: until, pauseReason: reason, updatedAt: sql`now()` })
      .where(and(eq(ingestRuns.id, runId), inArray(ingestRuns.status, ACTIVE)))
      .returning();
    return row;
  }

  /**
   * Lifts a pause (an operator's action, or the pause ran out): the breaker then judges only the
   * batches that follow. Only a paused active run is touched: resuming one that is not paused
   * would reset the breaker's baseline and hide the failures it is counting.
   */
  async resume(db: Executor, runId: string): Promise<IngestRunRow | undefined> {
    const [row] = await db
      .update(ingestRuns)
      .set({
        pausedUntil: null,
        pauseReason: null,
        breakerBaselineIngested: sql`${ingestRuns.batchesIngested}`,
        breakerBaselineFailed: sql`${ingestRuns.batchesFailed}`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(ingestRuns.id, runId), inArray(ingestRuns.status, ACTIVE), isNotNull(ingestRuns.pausedUntil)))
      .returning();
    return row;
  }

  /** The held pull goes on: the wait ends and the time it took is counted. */
  async clearWaiting(db: Executor, runId: string): Promise<void> {
    await db
      .update(ingestRuns)
      .set(endWait)
      .where(and(eq(ingestRuns.id, runId), sql`(${ingestRuns.waitingReason} IS NOT NULL OR ${ingestRuns.waitingSince} IS NOT NULL)`));
  }
}
