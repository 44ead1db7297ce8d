-- A number for every start of an ingester step, unique across all jobs. An attempt's output
-- directory is named by it, so two starts of the same batch never share a directory (BullMQ's
-- own start counter restarts at 1 when a job is added again, e.g. after Redis lost it while
-- the first start still runs). ingest_batches.ingester_attempt records the one that committed.
CREATE SEQUENCE IF NOT EXISTS ingester_attempt_seq AS integer;
-- Attempts numbered before this migration came from BullMQ's counter (small numbers): start
-- above them so an existing batch's directory is never reused.
SELECT setval('ingester_attempt_seq', GREATEST(1000, (SELECT COALESCE(max(ingester_attempt), 0) + 1 FROM ingest_batches)), false);
