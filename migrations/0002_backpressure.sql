-- Backpressure and the failure breaker (issue 6): why the ingester waits, and until when a
-- run whose batches keep failing is paused.
ALTER TABLE ingest_runs
  ADD COLUMN paused_until              timestamptz,
  ADD COLUMN pause_reason              text,
  -- Counters when the breaker was last reset, so it judges only the batches since.
  ADD COLUMN breaker_baseline_ingested integer NOT NULL DEFAULT 0,
  ADD COLUMN breaker_baseline_failed   integer NOT NULL DEFAULT 0;
