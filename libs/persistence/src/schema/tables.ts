import { bigint, bigserial, boolean, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { BatchState, Convention, HookCounts, IngestEvent, IngestEventType, RunStatus } from '#osa/domain';

// Mirrors migrations/*.sql, which are the source of truth for the database.

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const conventions = pgTable('conventions', {
  id: text('id').primaryKey(),
  spec: jsonb('spec').$type<Convention>().notNull(),
  ...timestamps,
});

export const ingestRuns = pgTable('ingest_runs', {
  id: uuid('id').primaryKey(),
  conventionId: text('convention_id').notNull(),
  startJobId: text('start_job_id').notNull(),
  status: text('status').$type<RunStatus>().notNull().default('pending'),
  convention: jsonb('convention').$type<Convention>().notNull(),
  batchSize: integer('batch_size').notNull(),
  recordLimit: integer('record_limit'),
  ingestionFinished: boolean('ingestion_finished').notNull().default(false),
  batchesIngested: integer('batches_ingested').notNull().default(0),
  batchesPublished: integer('batches_published').notNull().default(0),
  batchesFailed: integer('batches_failed').notNull().default(0),
  recordsSourced: integer('records_sourced').notNull().default(0),
  publishedCount: integer('published_count').notNull().default(0),
  rejectedCount: integer('rejected_count').notNull().default(0),
  erroredCount: integer('errored_count').notNull().default(0),
  invalidCount: integer('invalid_count').notNull().default(0),
  deferrals: integer('deferrals').notNull().default(0),
  deferredMs: bigint('deferred_ms', { mode: 'number' }).notNull().default(0),
  waitingReason: text('waiting_reason'),
  /** When the latest deferral of the held pull was recorded (null while the ingester is not waiting). */
  waitingSince: timestamp('waiting_since', { withTimezone: true }),
  /** When the current pull was first held, by any signal (null while the ingester is not waiting). */
  pullHeldSince: timestamp('pull_held_since', { withTimezone: true }),
  /** When the current pull's wait bounded by BACKPRESSURE_MAX_WAIT_MS began (null while only the failure breaker holds it). */
  backpressureWaitSince: timestamp('backpressure_wait_since', { withTimezone: true }),
  pausedUntil: timestamp('paused_until', { withTimezone: true }),
  pauseReason: text('pause_reason'),
  breakerBaselineIngested: integer('breaker_baseline_ingested').notNull().default(0),
  breakerBaselineFailed: integer('breaker_baseline_failed').notNull().default(0),
  failureReason: text('failure_reason'),
  failureKind: text('failure_kind'),
  startedAt: timestamp('started_at', { withTimezone: true }),
  ingestionFinishedAt: timestamp('ingestion_finished_at', { withTimezone: true }),
  completedAt: timestamp('completed_at', { withTimezone: true }),
  ...timestamps,
});

export const ingestBatches = pgTable(
  'ingest_batches',
  {
    runId: uuid('run_id').notNull(),
    batchIndex: integer('batch_index').notNull(),
    state: text('state').$type<BatchState>().notNull(),
    ingesterAttempt: integer('ingester_attempt'),
    hooksAttempt: integer('hooks_attempt'),
    recordCount: integer('record_count').notNull().default(0),
    invalidCount: integer('invalid_count').notNull().default(0),
    publishedCount: integer('published_count').notNull().default(0),
    rejectedCount: integer('rejected_count').notNull().default(0),
    erroredCount: integer('errored_count').notNull().default(0),
    hookCounts: jsonb('hook_counts').$type<Record<string, HookCounts>>().notNull().default({}),
    hasMore: boolean('has_more').notNull().default(false),
    nextSession: jsonb('next_session'),
    failureStage: text('failure_stage'),
    failureReason: text('failure_reason'),
    failureKind: text('failure_kind'),
    failureLogs: text('failure_logs').array(),
    hookedAt: timestamp('hooked_at', { withTimezone: true }),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    /** When the pull that sourced the batch was first held by backpressure (null: it was not held). */
    waitedFrom: timestamp('waited_from', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.runId, t.batchIndex] })],
);

export const recordIssues = pgTable('record_issues', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  runId: uuid('run_id').notNull(),
  batchIndex: integer('batch_index').notNull(),
  stage: text('stage').notNull(),
  hook: text('hook'),
  sourceId: text('source_id'),
  lineNumber: integer('line_number'),
  kind: text('kind').notNull(),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const records = pgTable('records', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  conventionId: text('convention_id').notNull(),
  sourceId: text('source_id').notNull(),
  runId: uuid('run_id').notNull(),
  batchIndex: integer('batch_index').notNull(),
  metadata: jsonb('metadata').notNull(),
  files: jsonb('files').notNull(),
  publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
});

export const recordFeatures = pgTable(
  'record_features',
  {
    recordId: bigint('record_id', { mode: 'number' }).notNull(),
    hook: text('hook').notNull(),
    features: jsonb('features').notNull(),
  },
  (t) => [primaryKey({ columns: [t.recordId, t.hook] })],
);

export const outboxEvents = pgTable('outbox_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  eventId: text('event_id').notNull().unique(),
  runId: uuid('run_id').notNull(),
  type: text('type').$type<IngestEventType>().notNull(),
  payload: jsonb('payload').$type<IngestEvent['payload']>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  relayedAt: timestamp('relayed_at', { withTimezone: true }),
});

export type IngestRunRow = typeof ingestRuns.$inferSelect;
export type IngestBatchRow = typeof ingestBatches.$inferSelect;
export type OutboxEventRow = typeof outboxEvents.$inferSelect;
export type RecordIssueRow = typeof recordIssues.$inferSelect;
