import type { HookCounts, RunStatus } from '#osa/domain';
import type { RunCounters } from '#osa/persistence';

/** What the run pages show of a run; filled from the run read model by RunPagesService. */
export interface RunRowView {
  id: string;
  conventionId: string;
  status: RunStatus;
  ingestionFinished: boolean;
  createdAt: Date;
  startedAt: Date | null;
  ingestionFinishedAt: Date | null;
  completedAt: Date | null;
  counters: RunCounters;
  /** `heldSince`: when the held pull was first deferred; `since`: its latest deferral. */
  waiting: { reason: string | null; since: Date | null; heldSince: Date | null; deferrals: number; deferredMs: number };
  pause: { until: Date | null; reason: string | null };
  latestFailure: { reason: string; kind: string | null } | null;
}

export interface BatchView {
  batchIndex: number;
  state: string;
  records: number;
  published: number;
  rejected: number;
  errored: number;
  invalid: number;
  /** Null for a batch the ingester failed to source. */
  sourcedAt: Date | null;
  hookedAt: Date | null;
  publishedAt: Date | null;
  failedAt: Date | null;
  /** When backpressure first held the pull that sourced the batch (null: it was not held); the wait ended at sourcedAt. */
  waitedFrom: Date | null;
}

export interface FailedBatchView {
  batchIndex: number;
  stage: string | null;
  kind: string | null;
  reason: string | null;
  logs: string[];
}

export interface IssueView {
  batchIndex: number;
  stage: string;
  hook: string | null;
  sourceId: string | null;
  lineNumber: number | null;
  kind: string;
  reason: string;
}

export interface IssuesPageView {
  items: IssueView[];
  batch?: number;
  kind?: string;
  page: number;
  pageSize: number;
  hasMore: boolean;
  total: number;
}

export interface HookMemoryView {
  hook: string;
  /** The hook's memory limit in the run's convention snapshot (a replay override included). */
  memory: string | null;
}

export interface RunPageView {
  run: RunRowView;
  hooks: string[];
  hookCounts: Record<string, HookCounts>;
  batchesByState: Record<string, number>;
  /** The last batches (at most the timeline's rows), in index order. */
  batches: BatchView[];
  /** Every batch of the run, empty ones included. */
  batchTotal: number;
  /** One page of the failed batches, with their log tails. */
  failedBatches: FailedBatchView[];
  failedPage: { page: number; pageSize: number; total: number };
  /** Failed batches of the whole run, by the stage that failed them. */
  failedByStage: Record<string, number>;
  issuesByKind: Record<string, number>;
  issuesNotListed: number;
  issues: IssuesPageView;
  memory: HookMemoryView[];
  /** Failed batches whose hooks were still killed for memory after every escalation. */
  oomFailedBatches: number;
  /** When the page was rendered: the right end of an active run's timeline. */
  now: Date;
}

/** What the live fragments (counters, stages, timeline) need: polled every few seconds, so no log tails and no hook aggregates. */
export type RunLiveView = Pick<RunPageView, 'run' | 'batchesByState' | 'failedByStage' | 'batches' | 'batchTotal' | 'now'>;

export const isActive = (run: Pick<RunRowView, 'status'>) => run.status !== 'completed';
