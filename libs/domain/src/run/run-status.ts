export const RunStatus = {
  Pending: 'pending',
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
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
