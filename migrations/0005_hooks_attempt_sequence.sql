-- The hooks stage numbers each start the same way as the ingester (0003): a hooks job that
-- Redis lost and the reconciler added again restarts BullMQ's counter at 1 while the first
-- start may still be writing passed.jsonl. ingest_batches.hooks_attempt records the one that
-- committed.
CREATE SEQUENCE IF NOT EXISTS hooks_attempt_seq AS integer;
SELECT setval('hooks_attempt_seq', GREATEST(1000, (SELECT COALESCE(max(hooks_attempt), 0) + 1 FROM ingest_batches)), false);
