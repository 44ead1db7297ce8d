-- The run counter batches_completed counts the batches that were published (a failed batch is
-- counted in batches_failed), so it is named for what it counts.
ALTER TABLE ingest_runs RENAME COLUMN batches_completed TO batches_published;

-- When each batch reached each ledger state, for the run pages: created_at is when the row was
-- written (sourced, empty or failed by the ingester) and updated_at moves with every change.
-- A replay clears failed_at with the rest of the failure (the outbox keeps the previous one).
ALTER TABLE ingest_batches
  ADD COLUMN hooked_at timestamptz,
  ADD COLUMN published_at timestamptz,
  ADD COLUMN failed_at timestamptz;
UPDATE ingest_batches SET hooked_at = updated_at WHERE state = 'hooked';
UPDATE ingest_batches SET published_at = updated_at WHERE state = 'published';
UPDATE ingest_batches SET failed_at = updated_at WHERE state = 'failed';
