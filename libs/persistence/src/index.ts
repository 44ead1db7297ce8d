export * from './database/database.js';
export * from './database/locate-migrations.js';
export * from './database/migrate.js';
export * from './read-model/run-read-model.js';
export * from './read-model/run-views.js';
export * from './read/run-progress.query.js';
export * from './repositories/convention.repository.js';
export * from './repositories/outbox.repository.js';
export * from './repositories/record.repository.js';
export * from './repositories/run-ledger.js';
export type { HookedBatch, SourcedBatch } from './repositories/batch.repository.js';
export type { CreateRunOutcome, DeferredPullWait, NewRun, RunUpdate } from './repositories/ingest-run.repository.js';
export type { ReplayOutcome, ReplayOverride, ReplayRequest, ReplayedBatch, SkippedBatch } from './repositories/replay.repository.js';
// The tables are not exported: only RunLedger (and the convention and record repositories) write them.
export type { IngestBatchRow, IngestRunRow, OutboxEventRow, RecordIssueRow } from './schema/tables.js';
