import { Injectable } from '@nestjs/common';
import { type BatchView, type FailedBatchCount, type NextPull, RunReadModel, type RunSummary } from '#osa/persistence';
import type { RunListInput } from './page-input.js';
import type { RunsListView } from './runs-list.view.js';
import type { FailedBatchView, RunLiveView, RunPageView, RunRowView } from './run-view.js';
import { TIMELINE_MAX_ROWS } from './timeline.view.js';

export const RUNS_PAGE_SIZE = 25;
export const ISSUES_PAGE_SIZE = 50;
/** Failed batches per run page: each carries its log tail. */
export const FAILED_PAGE_SIZE = 20;

export interface IssuesInput {
  batch?: number;
  kind?: string;
  issuesPage: number;
  failedPage?: number;
}

/** Gathers what the run pages show from the run read model; no queries of its own. */
@Injectable()
export class RunPagesService {
  constructor(private readonly reads: RunReadModel) {}

  async list(input: RunListInput): Promise<RunsListView> {
    const page = await this.reads.listRuns({
      conventionId: input.convention,
      status: input.status,
      limit: RUNS_PAGE_SIZE,
      offset: (input.page - 1) * RUNS_PAGE_SIZE,
    });
    return { ...input, items: page.items.map((s) => rowView(s)), total: page.total, pageSize: RUNS_PAGE_SIZE, now: new Date() };
  }

  /** The live fragments' data: the run row, batch counts and the timeline's last rows. */
  async live(runId: string): Promise<RunLiveView | undefined> {
    const progress = await this.reads.getRunProgress(runId);
    if (!progress) return undefined;
    const batchTotal = Object.values(progress.batchesByState).reduce((n, c) => n + c, 0);
    const batches = await this.reads.listBatches(runId, { offset: Math.max(0, batchTotal - TIMELINE_MAX_ROWS), limit: TIMELINE_MAX_ROWS });
    return {
      run: rowView(progress.summary, progress.summary.ingestionFinished ? undefined : progress),
      batchesByState: progress.batchesByState,
      failedByStage: byStage(progress.failedBatches),
      batches: batches.items,
      batchTotal: batches.total,
      now: new Date(),
    };
  }

  /** Every failed batch with its log tail, for the replay confirmation (not polled). */
  async failedBatches(runId: string): Promise<FailedBatchView[]> {
    return (await this.reads.listBatches(runId, { states: ['failed'] })).items.map(failedView);
  }

  async run(runId: string, issues: IssuesInput = { issuesPage: 1 }): Promise<RunPageView | undefined> {
    const [detail, row] = await Promise.all([this.reads.getRun(runId), this.reads.findRun(runId)]);
    if (!detail || !row) return undefined;
    const batchCount = Object.values(detail.batchesByState).reduce((n, c) => n + c, 0);
    const failedPage = issues.failedPage ?? 1;
    const [batches, failed, failedCounts, issuePage] = await Promise.all([
      this.reads.listBatches(runId, { offset: Math.max(0, batchCount - TIMELINE_MAX_ROWS), limit: TIMELINE_MAX_ROWS }),
      this.reads.listBatches(runId, { states: ['failed'], limit: FAILED_PAGE_SIZE, offset: (failedPage - 1) * FAILED_PAGE_SIZE }),
      this.reads.countFailedBatches(runId),
      this.reads.listIssues(runId, {
        batchIndex: issues.batch,
        kind: issues.kind,
        limit: ISSUES_PAGE_SIZE,
        offset: (issues.issuesPage - 1) * ISSUES_PAGE_SIZE,
      }),
    ]);
    return {
      run: rowView(detail.summary, detail.nextPull ?? undefined),
      hooks: detail.hooks,
      hookCounts: detail.hookOutcomes,
      batchesByState: detail.batchesByState,
      batches: batches.items,
      batchTotal: batches.total,
      failedBatches: failed.items.map(failedView),
      failedPage: { page: failedPage, pageSize: FAILED_PAGE_SIZE, total: failed.total },
      failedByStage: byStage(failedCounts),
      issuesByKind: detail.issuesByKind,
      issuesNotListed: detail.issuesNotListed,
      issues: {
        items: issuePage.items,
        batch: issues.batch,
        kind: issues.kind,
        page: issues.issuesPage,
        pageSize: ISSUES_PAGE_SIZE,
        hasMore: issuePage.offset + issuePage.items.length < issuePage.total,
        total: issuePage.total,
      },
      memory: row.convention.hooks.map((h) => ({ hook: h.name, memory: h.limits?.memory ?? null })),
      oomFailedBatches: failedCounts.filter((c) => c.kind === 'oom').reduce((n, c) => n + c.n, 0),
      now: new Date(),
    };
  }
}

function failedView(b: BatchView): FailedBatchView {
  return {
    batchIndex: b.batchIndex,
    stage: b.failure?.stage ?? null,
    kind: b.failure?.kind ?? null,
    reason: b.failure?.reason ?? null,
    logs: b.failure?.logs ?? [],
  };
}

function byStage(counts: readonly FailedBatchCount[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of counts) if (c.stage) out[c.stage] = (out[c.stage] ?? 0) + c.n;
  return out;
}

function rowView(summary: RunSummary, pull?: Pick<NextPull, 'pausedUntil' | 'pauseReason'>): RunRowView {
  return { ...summary, pause: { until: pull?.pausedUntil ?? null, reason: pull?.pauseReason ?? null } };
}
