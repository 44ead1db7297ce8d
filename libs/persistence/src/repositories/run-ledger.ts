import { type FailureRecord, ingestBatchPublished, type RecordIssue, RunStatus } from '#osa/domain';
import type { Database, Executor } from '../database/database.js';
import type { IngestBatchRow, IngestRunRow } from '../schema/tables.js';
import { BatchRepository, type HookedBatch, type SourcedBatch } from './batch.repository.js';
import {
  type CreateRunOutcome,
  type DeferredPullWait,
  IngestRunRepository,
  type NewRun,
  type RunUpdate,
  RunTerminalError,
} from './ingest-run.repository.js';
import { OutboxRepository } from './outbox.repository.js';
import { RecordIssueRepository } from './record-issue.repository.js';
import { type ReplayOutcome, ReplayRepository, type ReplayRequest } from './replay.repository.js';

/**
 * What a ledger operation did. `applied` is false when the transition had happened before
 * (a repeated job) or the run had ended (`runTerminal`); `completed` is true only for the one
 * caller that completed the run.
 */
export interface LedgerResult {
  applied: boolean;
  runTerminal: boolean;
  completed: boolean;
  run?: IngestRunRow;
  batch?: IngestBatchRow;
}

/** What resuming a run did; `run` is the run as it is now. */
export type ResumeOutcome =
  { outcome: 'resumed'; run: IngestRunRow } | { outcome: 'not-paused' | 'not-active'; run: IngestRunRow } | { outcome: 'not-found' };

const ACTIVE_STATUSES: readonly string[] = [RunStatus.Pending, RunStatus.Running];

/** A stage step's run and, when the ledger has it, its batch. */
export interface RunAndBatch {
  run: IngestRunRow;
  batch: IngestBatchRow | undefined;
}

/**
 * The run ledger, the only door to run and batch state: every batch transition together with
 * its run counters, its issues, its outbox events and the completion check, in one
 * transaction, and the run's lifecycle changes (start, pause, waits, replay). Repeating any
 * operation changes nothing: each transition is a guarded `UPDATE … WHERE state = expected
 * RETURNING`, and the counters move only when it returns a row (see docs/architecture.md,
 * "The ledger"). It also answers the few questions a stage step asks before it moves a batch;
 * everything else reads through RunReadModel.
 */
export class RunLedger {
  private readonly outbox = new OutboxRepository();
  private readonly runs = new IngestRunRepository(this.outbox);
  private readonly batches = new BatchRepository();
  private readonly issues = new RecordIssueRepository();
  private readonly replays = new ReplayRepository(this.outbox);

  constructor(private readonly db: Database) {}

  /**
   * Creates a run with its IngestRunStarted event; the database refuses a second active run of
   * a convention, and a repeated start job finds its run again.
   */
  createRun(run: NewRun): Promise<CreateRunOutcome> {
    return this.runs.create(this.db, run);
  }

  /** pending → running; a no-op for a run that is already running or has ended. */
  markRunning(runId: string): Promise<RunUpdate> {
    return this.runs.markRunning(this.db, runId);
  }

  /** Backpressure held the next pull: counts the deferral and starts (or continues) the wait. */
  recordDeferral(runId: string, reason: string, wait: DeferredPullWait): Promise<IngestRunRow | undefined> {
    return this.runs.recordDeferral(this.db, runId, reason, wait);
  }

  /** The held pull goes on: the wait ends and the time it took is counted. */
  clearWaiting(runId: string): Promise<void> {
    return this.runs.clearWaiting(this.db, runId);
  }

  /** The failure breaker tripped: pulling pauses until `until` (or an operator resumes the run). */
  pause(runId: string, until: Date, reason: string): Promise<IngestRunRow | undefined> {
    return this.runs.pause(this.db, runId, until, reason);
  }

  /**
   * Lifts the failure breaker's pause of an active run. A run that is not paused is left alone
   * (`not-paused`), and so is a run that is not active (`not-active`) or unknown (`not-found`).
   */
  async resume(runId: string): Promise<ResumeOutcome> {
    const resumed = await this.runs.resume(this.db, runId);
    if (resumed) return { outcome: 'resumed', run: resumed };
    const run = await this.runs.find(this.db, runId);
    if (!run) return { outcome: 'not-found' };
    return { outcome: ACTIVE_STATUSES.includes(run.status) ? 'not-paused' : 'not-active', run };
  }

  /**
   * Resets the run's failed hook and publish batches for another try (see ReplayRepository);
   * the caller then re-enqueues the returned batches' jobs.
   */
  reopenFailedBatches(request: ReplayRequest): Promise<ReplayOutcome> {
    return this.replays.reopenFailedBatches(this.db, request);
  }

  /** A number for one start of a stage step that writes output (see BatchRepository.nextAttempt). */
  nextAttempt(stage: 'ingester' | 'hooks'): Promise<number> {
    return this.batches.nextAttempt(this.db, stage);
  }

  /** The run and, when the ledger has it, batch n: one round trip for the start of every stage step. */
  findRunAndBatch(runId: string, batchIndex: number): Promise<RunAndBatch | undefined> {
    return this.batches.findWithRun(this.db, runId, batchIndex);
  }

  findBatch(runId: string, batchIndex: number): Promise<IngestBatchRow | undefined> {
    return this.batches.find(this.db, runId, batchIndex);
  }

  /** Records sourced by the batches before `batchIndex`: what remains of the run's limit. */
  recordsBefore(runId: string, batchIndex: number): Promise<number> {
    return this.batches.recordsBefore(this.db, runId, batchIndex);
  }

  /** The index after the highest batch the ledger knows for the run (0 for none). */
  async nextBatchIndex(runId: string): Promise<number> {
    return (await this.batches.lastIndex(this.db, runId)) + 1;
  }

  /** How many of the run's batches wait for hooks or publishing (downstream lag). */
  countOpenBatches(runId: string): Promise<number> {
    return this.batches.countOpen(this.db, runId);
  }

  /** Batch n was pulled: count it (unless empty), keep its session, maybe finish ingestion. */
  recordSourced(batch: SourcedBatch & { finishIngestion: boolean }, issues: readonly RecordIssue[] = []): Promise<LedgerResult> {
    const { finishIngestion, ...row } = batch;
    return this.guarded(batch.runId, async (tx) => {
      const inserted = await this.batches.insertSourced(tx, row);
      if (!inserted) return this.notApplied(tx, batch.runId, batch.batchIndex);
      const run = await this.runs.applyDeltaOrRollback(tx, batch.runId, {
        batchesIngested: batch.recordCount > 0 ? 1 : 0,
        recordsSourced: batch.recordCount,
        invalidCount: batch.invalidCount,
        finishIngestion,
      });
      await this.issues.insertMany(tx, issues);
      return this.finish(tx, run, inserted);
    });
  }

  /** Every hook ran on batch n: keep the per-hook counts and the reasons. */
  recordHooked(batch: HookedBatch, issues: readonly RecordIssue[] = []): Promise<LedgerResult> {
    return this.guarded(batch.runId, async (tx) => {
      const moved = await this.batches.markHooked(tx, batch);
      if (!moved) return this.notApplied(tx, batch.runId, batch.batchIndex);
      // A batch whose every record passed changes no run counter: one statement fewer.
      const run =
        batch.rejectedCount + batch.erroredCount > 0
          ? await this.runs.applyDeltaOrRollback(tx, batch.runId, { rejectedCount: batch.rejectedCount, erroredCount: batch.erroredCount })
          : undefined;
      await this.issues.insertMany(tx, issues);
      return { applied: true, runTerminal: false, completed: false, run, batch: moved };
    });
  }

  /**
   * Publishes batch n: `insertRecords` runs inside the transaction that moves the batch to
   * published, so records are written exactly once with the counters that count them. The
   * batch row is locked while hooked before any record is inserted, then moved with its count
   * in one statement.
   */
  recordPublished(runId: string, batchIndex: number, insertRecords: (tx: Executor) => Promise<number>): Promise<LedgerResult> {
    return this.guarded(runId, async (tx) => {
      if (!(await this.batches.lockHooked(tx, runId, batchIndex))) return this.notApplied(tx, runId, batchIndex);
      const published = await insertRecords(tx);
      const batch = await this.batches.markPublished(tx, runId, batchIndex, published);
      if (!batch) throw new Error(`batch ${batchIndex} of run ${runId} left the hooked state while locked`);
      const run = await this.runs.applyDeltaOrRollback(tx, runId, { batchesPublished: 1, publishedCount: published });
      await this.outbox.append(tx, ingestBatchPublished({ runId, conventionId: run.conventionId, batchIndex, published }));
      return this.finish(tx, run, batch);
    });
  }

  /** A hook or publish step failed for good: the batch is accounted as failed with its reason. */
  failBatch(runId: string, batchIndex: number, stage: string, failure: FailureRecord): Promise<LedgerResult> {
    return this.guarded(runId, async (tx) => {
      const moved = await this.batches.markFailed(tx, runId, batchIndex, stage, failure);
      if (!moved) return this.notApplied(tx, runId, batchIndex);
      const run = await this.runs.applyDeltaOrRollback(tx, runId, { batchesFailed: 1, failure });
      return this.finish(tx, run, moved);
    });
  }

  /**
   * The ingester failed for good on batch n: ingestion ends, batch n counts as one ingested
   * and failed batch, and the batches already sourced still go through. Refused (not applied)
   * unless n is the run's next batch to source, so a failure for any other batch (a stray job)
   * can never end the ingestion.
   */
  failIngestion(runId: string, batchIndex: number, failure: FailureRecord): Promise<LedgerResult> {
    return this.guarded(runId, async (tx) => {
      if (!(await this.batches.isNextToSource(tx, runId, batchIndex))) return this.notApplied(tx, runId, batchIndex);
      const inserted = await this.batches.insertFailed(tx, runId, batchIndex, failure);
      if (!inserted) {
        // Batch n was sourced by an earlier attempt: the failure is stale, but ingestion may
        // still need finishing if that attempt found the source exhausted.
        return this.notApplied(tx, runId, batchIndex);
      }
      const run = await this.runs.applyDeltaOrRollback(tx, runId, {
        batchesIngested: 1,
        batchesFailed: 1,
        finishIngestion: true,
        failure,
      });
      return this.finish(tx, run, inserted);
    });
  }

  /** Re-checks completion on its own, for the reconciler. */
  async completeIfDone(runId: string): Promise<IngestRunRow | undefined> {
    return this.db.transaction((tx) => this.runs.completeIfDone(tx, runId));
  }

  private async finish(tx: Executor, run: IngestRunRow, batch: IngestBatchRow): Promise<LedgerResult> {
    const completed = await this.runs.completeIfDone(tx, run.id);
    return { applied: true, runTerminal: false, completed: completed !== undefined, run: completed ?? run, batch };
  }

  private async notApplied(tx: Executor, runId: string, batchIndex: number): Promise<LedgerResult> {
    const [run, batch] = await Promise.all([this.runs.find(tx, runId), this.batches.find(tx, runId, batchIndex)]);
    const runTerminal = run !== undefined && run.status !== 'pending' && run.status !== 'running';
    return { applied: false, runTerminal, completed: false, run, batch };
  }

  private async guarded(runId: string, body: (tx: Executor) => Promise<LedgerResult>): Promise<LedgerResult> {
    try {
      return await this.db.transaction(body);
    } catch (err) {
      if (!(err instanceof RunTerminalError)) throw err;
      return { applied: false, runTerminal: true, completed: false, run: await this.runs.find(this.db, runId) };
    }
  }
}
