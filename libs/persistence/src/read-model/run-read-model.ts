import { and, asc, count, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import { BatchState, emptyHookCounts, type HookCounts, ISSUES_TRUNCATED, RunStatus, Stage } from '#osa/domain';
import type { Database } from '../database/database.js';
import { longestBackpressureWaitSeconds, longestRunStallSeconds } from '../read/run-progress.query.js';
import {
  type IngestBatchRow,
  ingestBatches,
  type IngestRunRow,
  ingestRuns,
  type OutboxEventRow,
  outboxEvents,
  type RecordIssueRow,
  recordIssues,
} from '../schema/tables.js';
import type {
  BatchCountsByState,
  BatchListFilter,
  BatchView,
  FailedBatchCount,
  HookOutcomes,
  IssueListFilter,
  Page,
  RunDetail,
  RunListFilter,
  RunProgress,
  RunSummary,
} from './run-views.js';

const ACTIVE = [RunStatus.Pending, RunStatus.Running];
/** The outcome counts and the optional memory counts (container runs, OOM kills, escalations, bisection runs) a batch's hook counts may hold. */
const HOOK_COUNT_KEYS = new Set<string>([
  'passed',
  'rejected',
  'errored',
  'missing',
  'invalid',
  'containerRuns',
  'oomKills',
  'memoryEscalations',
  'bisectionRuns',
]);

/**
 * Every read of runs, batches, issues and events outside the ledger's own transitions: the
 * dashboard API and pages, the CLI, the reconciler and the metrics read here. Writes go
 * through RunLedger only.
 */
export class RunReadModel {
  constructor(private readonly db: Database) {}

  async listRuns(filter: RunListFilter): Promise<Page<RunSummary>> {
    const where = and(
      filter.conventionId ? eq(ingestRuns.conventionId, filter.conventionId) : undefined,
      filter.status ? eq(ingestRuns.status, filter.status) : undefined,
    );
    const [rows, [total]] = await Promise.all([
      this.db
        .select()
        .from(ingestRuns)
        .where(where)
        .orderBy(desc(ingestRuns.createdAt), desc(ingestRuns.id))
        .limit(filter.limit)
        .offset(filter.offset),
      this.db.select({ n: count() }).from(ingestRuns).where(where),
    ]);
    return { items: rows.map(toRunSummary), total: total?.n ?? 0, limit: filter.limit, offset: filter.offset };
  }

  /** The run with its counters and per-state, per-hook and per-kind totals; undefined when there is none. */
  async getRun(runId: string): Promise<RunDetail | undefined> {
    const run = await this.findRun(runId);
    if (!run) return undefined;
    const [batchesByState, hookOutcomes, issuesByKind, issuesNotListed] = await Promise.all([
      this.countBatchesByState(runId),
      this.hookOutcomes(runId),
      this.issueCountsByKind(runId),
      this.countUnlistedIssues(runId),
    ]);
    return {
      summary: toRunSummary(run),
      hooks: run.convention.hooks.map((h) => h.name),
      batchesByState,
      hookOutcomes,
      issuesByKind,
      issuesNotListed,
      nextPull: run.ingestionFinished
        ? null
        : {
            batchIndex: await this.nextBatchIndex(runId),
            waiting: toRunSummary(run).waiting,
            pausedUntil: run.pausedUntil,
            pauseReason: run.pauseReason,
          },
    };
  }

  /** The run's counters and batch counts only: cheap enough to poll while a run is active. */
  async getRunProgress(runId: string): Promise<RunProgress | undefined> {
    const run = await this.findRun(runId);
    if (!run) return undefined;
    const [batchesByState, failedBatches] = await Promise.all([this.countBatchesByState(runId), this.countFailedBatches(runId)]);
    return { summary: toRunSummary(run), batchesByState, failedBatches, pausedUntil: run.pausedUntil, pauseReason: run.pauseReason };
  }

  /** The run's failed batches counted by failure stage and kind. */
  countFailedBatches(runId: string): Promise<FailedBatchCount[]> {
    return this.db
      .select({ stage: ingestBatches.failureStage, kind: ingestBatches.failureKind, n: sql<number>`count(*)::int` })
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.state, BatchState.Failed)))
      .groupBy(ingestBatches.failureStage, ingestBatches.failureKind);
  }

  /** The run's batches in index order, a page at a time (all of them without a limit). */
  async listBatches(runId: string, filter: BatchListFilter = {}): Promise<Page<BatchView>> {
    const where = and(eq(ingestBatches.runId, runId), filter.states ? inArray(ingestBatches.state, [...filter.states]) : undefined);
    const offset = filter.offset ?? 0;
    let query = this.db.select().from(ingestBatches).where(where).orderBy(asc(ingestBatches.batchIndex)).offset(offset).$dynamic();
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    const [rows, [total]] = await Promise.all([query, this.db.select({ n: count() }).from(ingestBatches).where(where)]);
    return { items: rows.map(toBatchView), total: total?.n ?? 0, limit: filter.limit ?? rows.length, offset };
  }

  /** The run's record issues in the order they were written, narrowed to a batch and a kind. */
  async listIssues(runId: string, filter: IssueListFilter): Promise<Page<RecordIssueRow>> {
    const where = and(
      eq(recordIssues.runId, runId),
      filter.batchIndex === undefined ? undefined : eq(recordIssues.batchIndex, filter.batchIndex),
      filter.kind === undefined ? undefined : eq(recordIssues.kind, filter.kind),
    );
    const offset = filter.offset ?? 0;
    const [items, [total]] = await Promise.all([
      this.db.select().from(recordIssues).where(where).orderBy(asc(recordIssues.id)).limit(filter.limit).offset(offset),
      this.db.select({ n: count() }).from(recordIssues).where(where),
    ]);
    return { items, total: total?.n ?? 0, limit: filter.limit, offset };
  }

  async issueCountsByKind(runId: string): Promise<Record<string, number>> {
    const rows = await this.db
      .select({ kind: recordIssues.kind, n: sql<number>`count(*)::int` })
      .from(recordIssues)
      .where(eq(recordIssues.runId, runId))
      .groupBy(recordIssues.kind);
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  /**
   * Issues that were counted but not stored: the sum of the counts that `issues_truncated`
   * lines start with (their reason is written only by `CappedIssues`, never by a container).
   */
  async countUnlistedIssues(runId: string): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<string | null>`sum(substring(${recordIssues.reason} from '^[0-9]+')::bigint)` })
      .from(recordIssues)
      .where(and(eq(recordIssues.runId, runId), eq(recordIssues.kind, ISSUES_TRUNCATED)));
    return Number(row?.n ?? 0);
  }

  /** Pending and running runs (the reconciler's work list). */
  listActiveRuns(): Promise<IngestRunRow[]> {
    return this.db.select().from(ingestRuns).where(inArray(ingestRuns.status, ACTIVE));
  }

  async countActiveRuns(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(ingestRuns).where(inArray(ingestRuns.status, ACTIVE));
    return row?.n ?? 0;
  }

  /** Seconds since the active run that has gone longest without progress last moved (see longestRunStallSeconds). */
  longestRunStallSeconds(): Promise<number> {
    return longestRunStallSeconds(this.db);
  }

  /** Seconds the longest current backpressure wait has lasted since its pull was first deferred (see longestBackpressureWaitSeconds). */
  longestBackpressureWaitSeconds(): Promise<number> {
    return longestBackpressureWaitSeconds(this.db);
  }

  /** The run's ledger row, for the services and tools that work with every column. */
  async findRun(runId: string): Promise<IngestRunRow | undefined> {
    const [row] = await this.db.select().from(ingestRuns).where(eq(ingestRuns.id, runId));
    return row;
  }

  async findBatch(runId: string, batchIndex: number): Promise<IngestBatchRow | undefined> {
    const [row] = await this.db
      .select()
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.batchIndex, batchIndex)));
    return row;
  }

  /** The run's batch rows in index order. */
  batchRows(runId: string): Promise<IngestBatchRow[]> {
    return this.db.select().from(ingestBatches).where(eq(ingestBatches.runId, runId)).orderBy(asc(ingestBatches.batchIndex));
  }

  /** The failed batches a replay would reset: those the hooks or the publisher failed (the replay decides under lock). */
  async replayableBatchIndexes(runId: string, batchIndexes?: readonly number[]): Promise<number[]> {
    const rows = await this.db
      .select({ batchIndex: ingestBatches.batchIndex })
      .from(ingestBatches)
      .where(
        and(
          eq(ingestBatches.runId, runId),
          eq(ingestBatches.state, BatchState.Failed),
          ne(ingestBatches.failureStage, Stage.Ingester),
          batchIndexes ? inArray(ingestBatches.batchIndex, [...batchIndexes]) : undefined,
        ),
      )
      .orderBy(asc(ingestBatches.batchIndex));
    return rows.map((r) => r.batchIndex);
  }

  /** The run's outbox events in the order they were written (its audit trail). */
  listEvents(runId: string): Promise<OutboxEventRow[]> {
    return this.db.select().from(outboxEvents).where(eq(outboxEvents.runId, runId)).orderBy(asc(outboxEvents.id));
  }

  private async countBatchesByState(runId: string): Promise<BatchCountsByState> {
    const rows = await this.db
      .select({ state: ingestBatches.state, n: sql<number>`count(*)::int` })
      .from(ingestBatches)
      .where(eq(ingestBatches.runId, runId))
      .groupBy(ingestBatches.state);
    const counts: BatchCountsByState = { sourced: 0, hooked: 0, published: 0, failed: 0, empty: 0 };
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /** Sums each hook's per-batch outcome counts in the database, so a long run is not loaded batch by batch. */
  private async hookOutcomes(runId: string): Promise<HookOutcomes> {
    const result = await this.db.execute<{ hook: string; outcome: string; n: number }>(sql`
      SELECT h.key AS hook, c.key AS outcome, sum((c.value)::bigint)::int AS n
      FROM ingest_batches b
      CROSS JOIN LATERAL jsonb_each(b.hook_counts) AS h
      CROSS JOIN LATERAL jsonb_each_text(h.value) AS c
      WHERE b.run_id = ${runId}
      GROUP BY h.key, c.key
      ORDER BY h.key`);
    const outcomes: HookOutcomes = {};
    for (const { hook, outcome, n } of result.rows) {
      const totals = (outcomes[hook] ??= emptyHookCounts());
      if (HOOK_COUNT_KEYS.has(outcome)) totals[outcome as keyof HookCounts] = n;
    }
    return outcomes;
  }

  private async nextBatchIndex(runId: string): Promise<number> {
    const [row] = await this.db
      .select({ last: sql<number>`coalesce(max(${ingestBatches.batchIndex}), -1)::int` })
      .from(ingestBatches)
      .where(eq(ingestBatches.runId, runId));
    return (row?.last ?? -1) + 1;
  }
}

export function toRunSummary(run: IngestRunRow): RunSummary {
  return {
    id: run.id,
    conventionId: run.conventionId,
    status: run.status,
    ingestionFinished: run.ingestionFinished,
    batchSize: run.batchSize,
    recordLimit: run.recordLimit,
    counters: {
      batchesIngested: run.batchesIngested,
      batchesPublished: run.batchesPublished,
      batchesFailed: run.batchesFailed,
      recordsSourced: run.recordsSourced,
      published: run.publishedCount,
      rejected: run.rejectedCount,
      errored: run.erroredCount,
      invalid: run.invalidCount,
    },
    waiting: {
      reason: run.waitingReason,
      since: run.waitingSince,
      heldSince: run.pullHeldSince,
      boundedSince: run.backpressureWaitSince,
      deferrals: run.deferrals,
      deferredMs: run.deferredMs,
    },
    latestFailure: run.failureReason ? { reason: run.failureReason, kind: run.failureKind } : null,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    ingestionFinishedAt: run.ingestionFinishedAt,
    completedAt: run.completedAt,
  };
}

const WAITING_FOR: Partial<Record<BatchState, BatchView['waitingFor']>> = { sourced: Stage.Hooks, hooked: Stage.Publisher };

export function toBatchView(batch: IngestBatchRow): BatchView {
  const neverSourced = batch.state === BatchState.Failed && batch.failureStage === Stage.Ingester;
  return {
    batchIndex: batch.batchIndex,
    state: batch.state,
    waitingFor: WAITING_FOR[batch.state] ?? null,
    records: batch.recordCount,
    invalid: batch.invalidCount,
    published: batch.publishedCount,
    rejected: batch.rejectedCount,
    errored: batch.erroredCount,
    hookCounts: batch.hookCounts,
    hasMore: batch.hasMore,
    sourcedAt: neverSourced ? null : batch.createdAt,
    hookedAt: batch.hookedAt,
    publishedAt: batch.publishedAt,
    failedAt: batch.failedAt,
    waitedFrom: batch.waitedFrom,
    updatedAt: batch.updatedAt,
    failure:
      batch.state === BatchState.Failed
        ? { stage: batch.failureStage, kind: batch.failureKind, reason: batch.failureReason, logs: batch.failureLogs ?? [] }
        : null,
  };
}
