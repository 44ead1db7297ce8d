/**
 * The `ingest-events` contract: every event the pipeline writes to its outbox (in the
 * transaction of the state change that caused it) and relays to the `ingest-events` queue.
 * Event ids are deterministic, so a repeated state change never yields a second event.
 * README.md ("Events") documents each type for consumers.
 */

/** A run was created (its first batch is requested next). */
export interface IngestRunStartedData {
  runId: string;
  conventionId: string;
  batchSize: number;
  /** The run's record limit; null when it pulls until the source is exhausted. */
  limit: number | null;
}

/** One batch's records were published (in the transaction that counted them). */
export interface IngestBatchPublishedData {
  runId: string;
  conventionId: string;
  batchIndex: number;
  /** Records this batch inserted; records already published for the convention are not counted. */
  published: number;
}

/** The run completed: ingestion finished and every ingested batch was published or failed. */
export interface IngestCompletedData {
  runId: string;
  conventionId: string;
  batchesIngested: number;
  batchesPublished: number;
  batchesFailed: number;
  /** Records the run published. */
  published: number;
  /** The run's latest failure, when any batch failed. */
  failureReason: string | null;
  failureKind: string | null;
}

/** Where a replayed batch went back to: the hooks (`sourced`) or the publisher (`hooked`). */
export type ReplayResumeState = 'sourced' | 'hooked';

/** A replay reset failed batches of the run (and reopened it when it had completed). */
export interface IngestRunReplayedData {
  runId: string;
  conventionId: string;
  /** 1 for the run's first replay, 2 for the second, … */
  replay: number;
  /** Whether the run had completed and is running again. */
  reopened: boolean;
  /** The hook limits the replay changed on the run's convention snapshot. */
  override: { hook?: string; memory?: string; image?: string } | null;
  batches: Array<{
    batchIndex: number;
    resumesAt: ReplayResumeState;
    /** The failure the replay cleared from the batch (the ledger keeps only the latest). */
    previousFailure: { stage: string | null; kind: string | null; reason: string | null };
  }>;
}

/** Each event type and its payload. */
export interface IngestEventData {
  IngestRunStarted: IngestRunStartedData;
  IngestBatchPublished: IngestBatchPublishedData;
  IngestCompleted: IngestCompletedData;
  IngestRunReplayed: IngestRunReplayedData;
}

export type IngestEventType = keyof IngestEventData;

export const INGEST_EVENT_TYPES: readonly IngestEventType[] = ['IngestRunStarted', 'IngestBatchPublished', 'IngestCompleted', 'IngestRunReplayed'];

/** One event as the outbox stores it; `type` decides the payload's shape. */
export type IngestEvent = {
  [T in IngestEventType]: { type: T; eventId: string; runId: string; payload: IngestEventData[T] };
}[IngestEventType];

export type IngestEventOf<T extends IngestEventType> = Extract<IngestEvent, { type: T }>;

export function isIngestEventType(value: string): value is IngestEventType {
  return (INGEST_EVENT_TYPES as readonly string[]).includes(value);
}

export function ingestRunStarted(payload: IngestRunStartedData): IngestEventOf<'IngestRunStarted'> {
  return { type: 'IngestRunStarted', eventId: `run-started-${payload.runId}`, runId: payload.runId, payload };
}

export function ingestBatchPublished(payload: IngestBatchPublishedData): IngestEventOf<'IngestBatchPublished'> {
  return { type: 'IngestBatchPublished', eventId: `batch-published-${payload.runId}-${payload.batchIndex}`, runId: payload.runId, payload };
}

/**
 * `completion` is 1 for the run's first completion; a replayed run completes again and its
 * next IngestCompleted needs an id of its own.
 */
export function ingestCompleted(payload: IngestCompletedData, completion: number): IngestEventOf<'IngestCompleted'> {
  const eventId = completion <= 1 ? `run-completed-${payload.runId}` : `run-completed-${payload.runId}-${completion}`;
  return { type: 'IngestCompleted', eventId, runId: payload.runId, payload };
}

export function ingestRunReplayed(payload: IngestRunReplayedData): IngestEventOf<'IngestRunReplayed'> {
  return { type: 'IngestRunReplayed', eventId: `run-replayed-${payload.runId}-${payload.replay}`, runId: payload.runId, payload };
}
