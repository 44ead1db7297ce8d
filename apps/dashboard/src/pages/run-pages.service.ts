import { Injectable } from '@nestjs/common';
import { RunReadModel, type RunSummary } from '#osa/persistence';
import type { RunListInput } from './page-input.js';
import type { RunsListView } from './runs-list.view.js';
import type { FailedBatchView, RunPageView, RunRowView } from './run-view.js';
import { TIMELINE_MAX_ROWS } from './timeline.view.js';

export const RUNS_PAGE_SIZE = 25;
export const ISSUES_PAGE_SIZE = 50;

export interface IssuesInput {
  batch?: number;
  kind?: string;
  issuesPage: number;
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

  async run(runId: string, issues: IssuesInput = { issuesPage: 1 }): Promise<RunPageView | undefined> {
    const [detail, row] = await Promise.all([this.reads.getRun(runId), this.reads.findRun(runId)]);
    if (!detail || !row) return undefined;
    const batchCount = Object.values(detail.batchesByState).reduce((n, c) => n + c, 0);
    const [batches, failed, issuePage] = await Promise.all([
      this.reads.listBatches(runId, { offset: Math.max(0, batchCount - TIMELINE_MAX_ROWS), limit: TIMELINE_MAX_ROWS }),
      this.reads.listBatches(runId, { states: ['failed'] }),
      this.reads.listIssues(runId, {
        batchIndex: issues.batch,
        kind: issues.kind,
        limit: ISSUES_PAGE_SIZE,
        offset: (issues.issuesPage - 1) * ISSUES_PAGE_SIZE,
      }),
    ]);
    const failedBatches: FailedBatchView[] = failed.items.map((b) => ({
      batchIndex: b.batchIndex,
      stage: b.failure?.stage ?? null,
      kind: b.failure?.kind ?? null,
      reason: b.failure?.reason ?? null,
      logs: b.failure?.logs ?? [],
    }));
    return {
      run: rowView(detail.summary, detail.nextPull ?? undefined),
      hooks: detail.hooks,
      hookCounts: detail.hookOutcomes,
      batchesByState: detail.batchesByState,
      batches: batches.items,
      batchTotal: batches.total,
      failedBatches,
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
      oomFailedBatches: failedBatches.filter((b) => b.kind === 'oom').length,
      now: new Date(),
    };
  }
}

function rowView(summary: RunSummary, pull?: { pausedUntil: Date | null; pauseReason: string | null }): RunRowView {
  return { ...summary, pause: { until: pull?.pausedUntil ?? null, reason: pull?.pauseReason ?? null } };
}
