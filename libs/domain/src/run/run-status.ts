/**
 * A run's status: pending until its ingestion starts, running until every sourced batch is
 * published or failed, then completed (once). A run with failed batches still completes; its
 * counters and failed batches say what went wrong, and replay can reopen it. There is no failed
 * run status: nothing ever set it. (The database's CHECK on ingest_runs.status still admits
 * 'failed': it dates from the first migration, and an applied migration is never edited.)
 */
export const RunStatus = {
  Pending: 'pending',
  Running: 'running',
  Completed: 'completed',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/**
 * A batch's place in the ledger. Transitions are guarded in SQL:
 * sourced → hooked → published, and any non-terminal state → failed.
 * `empty` is a terminal state for a pull that returned no records; it is not counted.
 */
export const BatchState = {
  Sourced: 'sourced',
  Hooked: 'hooked',
  Published: 'published',
  Failed: 'failed',
  Empty: 'empty',
} as const;
export type BatchState = (typeof BatchState)[keyof typeof BatchState];

export const TERMINAL_BATCH_STATES: readonly BatchState[] = [BatchState.Published, BatchState.Failed, BatchState.Empty];

export const Stage = {
  Ingester: 'ingester',
  Hooks: 'hooks',
  Publisher: 'publisher',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];
