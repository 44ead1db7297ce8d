-- When the ingester's current wait for backpressure began. deferred_ms adds the time actually
-- waited (now - waiting_since) at each deferral and when the pull goes on or the ingestion ends,
-- not the delay each deferral planned: a held pull is often woken before its delay runs out.
ALTER TABLE ingest_runs ADD COLUMN waiting_since timestamptz;
