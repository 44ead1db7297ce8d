-- Backpressure waits for the run pages and the alert on a wait nearing its maximum.
-- waiting_since restarts at every deferral (deferred_ms adds each stretch), so it does not say
-- how long the current pull has been held. pull_held_since is when the current pull was first
-- held, by any signal; backpressure_wait_since is when its wait that BACKPRESSURE_MAX_WAIT_MS
-- bounds began (null while only the failure breaker holds it). Both clear when the wait ends.
ALTER TABLE ingest_runs
  ADD COLUMN pull_held_since timestamptz,
  ADD COLUMN backpressure_wait_since timestamptz;
-- When the pull that sourced the batch was first held (null: it was not held), so the timeline
-- shades every wait, not only the current one.
ALTER TABLE ingest_batches ADD COLUMN waited_from timestamptz;
