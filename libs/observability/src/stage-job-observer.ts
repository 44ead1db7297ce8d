/** Receives the outcome of every stage job attempt; StageProcessor reports to it when provided. */
export interface StageJobObserver {
  jobCompleted(stage: string, queue: string, seconds: number): void;
  jobAttemptFailed(stage: string, queue: string, seconds: number): void;
  /** After every failed attempt; `final` when no retry follows. */
  jobFailed(stage: string, queue: string, kind: string, final: boolean): void;
  /** A job was moved to delayed by backpressure; `signal` says what held it. */
  jobDeferred(stage: string, queue: string, signal: string): void;
}

export const STAGE_JOB_OBSERVER = Symbol('STAGE_JOB_OBSERVER');
