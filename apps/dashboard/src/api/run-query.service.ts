import { Injectable } from '@nestjs/common';
import { type IssueListFilter, type RunListFilter, RunReadModel } from '#osa/persistence';

/** What the API shows of runs: list rows, the run card, issues. Reads only, all through RunReadModel. */
@Injectable()
export class RunQueryService {
  constructor(private readonly reads: RunReadModel) {}

  list(filter: RunListFilter) {
    return this.reads.listRuns(filter);
  }

  async exists(runId: string): Promise<boolean> {
    return (await this.reads.findRun(runId)) !== undefined;
  }

  /** The run's summary, as the list shows it. */
  async summary(runId: string) {
    return (await this.reads.getRun(runId))?.summary;
  }

  /** The run card: everything an operator needs to see what happened to every batch. */
  async card(runId: string) {
    const detail = await this.reads.getRun(runId);
    if (!detail) return undefined;
    const { items } = await this.reads.listBatches(runId);
    return {
      ...detail.summary,
      hooks: detail.hooks,
      batches: {
        byState: detail.batchesByState,
        hooks: detail.hookOutcomes,
        items: items.map((b) => ({
          batchIndex: b.batchIndex,
          state: b.state,
          records: b.records,
          invalid: b.invalid,
          published: b.published,
          rejected: b.rejected,
          errored: b.errored,
          hookCounts: b.hookCounts,
        })),
      },
      issuesByKind: detail.issuesByKind,
      // Counted on the batches but not stored one by one (past the per-step cap).
      issuesNotListed: detail.issuesNotListed,
      failedBatches: items.flatMap((b) => (b.failure ? [{ batchIndex: b.batchIndex, ...b.failure }] : [])),
    };
  }

  /** One page of the run's issues, narrowed to a batch and a kind; `total` counts every match. */
  listIssues(runId: string, filter: IssueListFilter) {
    return this.reads.listIssues(runId, filter);
  }
}
