import { Inject, Injectable } from '@nestjs/common';
import { and, count, desc, eq } from 'drizzle-orm';
import { emptyHookCounts, type HookCounts, type RunStatus } from '#osa/domain';
import { BatchRepository, type DatabaseHandle, type IngestBatchRow, type IngestRunRow, ingestRuns, RecordIssueRepository } from '#osa/persistence';
import { DATABASE } from '#osa/pipeline';

export interface RunFilter {
  convention?: string;
  status?: RunStatus;
  limit: number;
  offset: number;
}

/** What the API shows of runs: list rows, the run card, issues. Reads only. */
@Injectable()
export class RunQueryService {
  private readonly batches = new BatchRepository();
  private readonly issues = new RecordIssueRepository();

  constructor(@Inject(DATABASE) private readonly database: DatabaseHandle) {}

  async list(filter: RunFilter) {
    const where = and(
      filter.convention ? eq(ingestRuns.conventionId, filter.convention) : undefined,
      filter.status ? eq(ingestRuns.status, filter.status) : undefined,
    );
    const db = this.database.db;
    const [rows, [total]] = await Promise.all([
      db.select().from(ingestRuns).where(where).orderBy(desc(ingestRuns.createdAt), desc(ingestRuns.id)).limit(filter.limit).offset(filter.offset),
      db.select({ n: count() }).from(ingestRuns).where(where),
    ]);
    return { items: rows.map(runSummary), total: total?.n ?? 0, limit: filter.limit, offset: filter.offset };
  }

  async find(runId: string): Promise<IngestRunRow | undefined> {
    const [row] = await this.database.db.select().from(ingestRuns).where(eq(ingestRuns.id, runId));
    return row;
  }

  /** The run card: everything an operator needs to see what happened to every batch. */
  async card(runId: string) {
    const run = await this.find(runId);
    if (!run) return undefined;
    const [batches, issuesByKind, issuesNotListed] = await Promise.all([
      this.batches.listForRun(this.database.db, runId),
      this.issues.countByKind(this.database.db, runId),
      this.issues.countUnlisted(this.database.db, runId),
    ]);
    return {
      ...runSummary(run),
      hooks: run.convention.hooks.map((h) => h.name),
      batches: ledgerSummary(batches),
      issuesByKind,
      // Counted on the batches but not stored one by one (past the per-step cap).
      issuesNotListed,
      failedBatches: batches
        .filter((b) => b.state === 'failed')
        .map((b) => ({
          batchIndex: b.batchIndex,
          stage: b.failureStage,
          kind: b.failureKind,
          reason: b.failureReason,
          logs: b.failureLogs ?? [],
        })),
    };
  }

  listIssues(runId: string, batchIndex: number | undefined, limit: number) {
    return this.issues.list(this.database.db, runId, batchIndex, limit);
  }
}

/** A run as listed: status, counters, waiting and latest failure; no convention snapshot. */
export function runSummary(run: IngestRunRow) {
  return {
    id: run.id,
    conventionId: run.conventionId,
    status: run.status,
    ingestionFinished: run.ingestionFinished,
    batchSize: run.batchSize,
    recordLimit: run.recordLimit,
    counters: {
      batchesIngested: run.batchesIngested,
      batchesCompleted: run.batchesCompleted,
      batchesFailed: run.batchesFailed,
      recordsSourced: run.recordsSourced,
      published: run.publishedCount,
      rejected: run.rejectedCount,
      errored: run.erroredCount,
      invalid: run.invalidCount,
    },
    waiting: { reason: run.waitingReason, since: run.waitingSince, deferrals: run.deferrals, deferredMs: run.deferredMs },
    latestFailure: run.failureReason ? { reason: run.failureReason, kind: run.failureKind } : null,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    ingestionFinishedAt: run.ingestionFinishedAt,
    completedAt: run.completedAt,
  };
}

function ledgerSummary(batches: readonly IngestBatchRow[]) {
  const byState: Record<string, number> = { sourced: 0, hooked: 0, published: 0, failed: 0, empty: 0 };
  const hooks: Record<string, HookCounts> = {};
  for (const batch of batches) {
    byState[batch.state] = (byState[batch.state] ?? 0) + 1;
    for (const [hook, counts] of Object.entries(batch.hookCounts)) {
      const total = (hooks[hook] ??= emptyHookCounts());
      for (const key of Object.keys(counts) as Array<keyof HookCounts>) total[key] = (total[key] ?? 0) + (counts[key] ?? 0);
    }
  }
  return {
    byState,
    hooks,
    items: batches.map((b) => ({
      batchIndex: b.batchIndex,
      state: b.state,
      records: b.recordCount,
      invalid: b.invalidCount,
      published: b.publishedCount,
      rejected: b.rejectedCount,
      errored: b.erroredCount,
      hookCounts: b.hookCounts,
    })),
  };
}
