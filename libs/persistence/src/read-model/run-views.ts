import type { BatchState, HookCounts, RunStatus, Stage } from '#osa/domain';
import type { RecordIssueRow } from '../schema/tables.js';

/** What a run list is narrowed to, and which page of it. */
export interface RunListFilter {
  conventionId?: string;
  status?: RunStatus;
  limit: number;
  offset: number;
}

/** One page of a longer list; `total` counts every item the filter matches. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface RunCounters {
  batchesIngested: number;
  /** Batches whose records were published (a failed batch counts in batchesFailed). */
  batchesPublished: number;
  batchesFailed: number;
  recordsSourced: number;
  published: number;
  rejected: number;
  errored: number;
  /** Lines of the ingester's output that could not be read. */
  invalid: number;
}

/** Backpressure: why the next pull waits now (null reason when it does not) and the waits so far. */
export interface RunWaiting {
  reason: string | null;
  /** When the latest deferral of the held pull was recorded. */
  since: Date | null;
  /** When the held pull was first deferred, by any signal: the current wait so far. */
  heldSince: Date | null;
  /** When the wait that BACKPRESSURE_MAX_WAIT_MS bounds began; null while only the failure breaker holds the pull. */
  boundedSince: Date | null;
  deferrals: number;
  deferredMs: number;
}

/** A run as listed: status, counters, waiting and latest failure; no convention snapshot. */
export interface RunSummary {
  id: string;
  conventionId: string;
  status: RunStatus;
  ingestionFinished: boolean;
  batchSize: number;
  recordLimit: number | null;
  counters: RunCounters;
  waiting: RunWaiting;
  latestFailure: { reason: string; kind: string | null } | null;
  createdAt: Date;
  startedAt: Date | null;
  ingestionFinishedAt: Date | null;
  completedAt: Date | null;
}

/** The batch the ingester pulls next while ingestion is open, and what holds it. */
export interface NextPull {
  batchIndex: number;
  waiting: RunWaiting;
  /** Set while the failure breaker pauses pulling. */
  pausedUntil: Date | null;
  pauseReason: string | null;
}

export type BatchCountsByState = Record<BatchState, number>;

/** Record outcomes per hook name, summed over the run's batches. */
export type HookOutcomes = Record<string, HookCounts>;

/** One run with everything but its batch and issue lists (page those with listBatches / listIssues). */
/** How many of a run's batches failed in each stage with each kind. */
export interface FailedBatchCount {
  stage: string | null;
  kind: string | null;
  n: number;
}

/** What a live view of an active run polls: the run row's summary and its batch counts, no per-batch rows. */
export interface RunProgress {
  summary: RunSummary;
  batchesByState: BatchCountsByState;
  failedBatches: FailedBatchCount[];
  pausedUntil: Date | null;
  pauseReason: string | null;
}

export interface RunDetail {
  summary: RunSummary;
  /** The hooks of the run's convention snapshot, in order. */
  hooks: string[];
  batchesByState: BatchCountsByState;
  hookOutcomes: HookOutcomes;
  issuesByKind: Record<string, number>;
  /** Issues counted on the batches but not stored one by one (past the per-step cap). */
  issuesNotListed: number;
  /** Null once ingestion has finished. */
  nextPull: NextPull | null;
}

export interface BatchFailure {
  stage: string | null;
  kind: string | null;
  reason: string | null;
  /** The failing container's last log lines. */
  logs: string[];
}

/** One batch of a run: where it is, what it counted, when it moved, why it failed. */
export interface BatchView {
  batchIndex: number;
  state: BatchState;
  /** The stage the batch waits for (hooks or publisher); null once it has ended. */
  waitingFor: Stage | null;
  records: number;
  invalid: number;
  published: number;
  rejected: number;
  errored: number;
  hookCounts: HookOutcomes;
  /** Whether the ingester left a session to pull the next batch from. */
  hasMore: boolean;
  /** Null for a batch the ingester failed to source. */
  sourcedAt: Date | null;
  hookedAt: Date | null;
  publishedAt: Date | null;
  failedAt: Date | null;
  /** When backpressure first held the pull that sourced the batch (null: it was not held); the wait ended at sourcedAt. */
  waitedFrom: Date | null;
  updatedAt: Date;
  failure: BatchFailure | null;
}

export interface BatchListFilter {
  states?: readonly BatchState[];
  limit?: number;
  offset?: number;
}

export interface IssueListFilter {
  batchIndex?: number;
  kind?: string;
  limit: number;
  offset?: number;
}

export type IssueView = RecordIssueRow;
