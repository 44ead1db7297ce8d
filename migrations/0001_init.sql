-- Conventions: what to ingest and how (DESIGN.md §5). The validated document is kept whole.
CREATE TABLE conventions (
  id          text PRIMARY KEY,
  spec        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ingest_runs (
  id                   uuid PRIMARY KEY,
  convention_id        text NOT NULL REFERENCES conventions(id),
  -- The start-ingest job that created the run: a repeated start job finds its run again.
  start_job_id         text NOT NULL,
  status               text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  -- The convention as it was when the run started, so an update mid-run cannot change it.
  convention           jsonb NOT NULL,
  batch_size           integer NOT NULL CHECK (batch_size > 0),
  record_limit         integer CHECK (record_limit IS NULL OR record_limit > 0),
  ingestion_finished   boolean NOT NULL DEFAULT false,
  batches_ingested     integer NOT NULL DEFAULT 0,
  batches_completed    integer NOT NULL DEFAULT 0,
  batches_failed       integer NOT NULL DEFAULT 0,
  records_sourced      integer NOT NULL DEFAULT 0,
  published_count      integer NOT NULL DEFAULT 0,
  rejected_count       integer NOT NULL DEFAULT 0,
  errored_count        integer NOT NULL DEFAULT 0,
  invalid_count        integer NOT NULL DEFAULT 0,
  deferrals            integer NOT NULL DEFAULT 0,
  deferred_ms          bigint  NOT NULL DEFAULT 0,
  waiting_reason       text,
  failure_reason       text,
  failure_kind         text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  started_at           timestamptz,
  ingestion_finished_at timestamptz,
  completed_at         timestamptz,
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ingest_runs_start_job_unique UNIQUE (start_job_id)
);

-- At most one active run per convention, enforced by the database, not by check-then-insert.
CREATE UNIQUE INDEX ingest_runs_one_active_per_convention
  ON ingest_runs (convention_id) WHERE status IN ('pending', 'running');
CREATE INDEX ingest_runs_convention_created ON ingest_runs (convention_id, created_at DESC);
CREATE INDEX ingest_runs_active ON ingest_runs (status) WHERE status IN ('pending', 'running');

-- The per-batch ledger (DESIGN.md §3.2): sourced → hooked → published | failed; empty is a
-- terminal, uncounted state for a pull that returned nothing.
CREATE TABLE ingest_batches (
  run_id            uuid NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,
  batch_index       integer NOT NULL CHECK (batch_index >= 0),
  state             text NOT NULL CHECK (state IN ('sourced', 'hooked', 'published', 'failed', 'empty')),
  -- Which attempt's output each stage committed; later stages read only that output.
  ingester_attempt  integer,
  hooks_attempt     integer,
  record_count      integer NOT NULL DEFAULT 0,
  invalid_count     integer NOT NULL DEFAULT 0,
  published_count   integer NOT NULL DEFAULT 0,
  rejected_count    integer NOT NULL DEFAULT 0,
  errored_count     integer NOT NULL DEFAULT 0,
  hook_counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
  has_more          boolean NOT NULL DEFAULT false,
  -- The session this batch's ingester wrote; batch n+1 reads it (DESIGN.md §3.6).
  next_session      jsonb,
  failure_stage     text,
  failure_reason    text,
  failure_kind      text,
  failure_logs      text[],
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, batch_index)
);
CREATE INDEX ingest_batches_open ON ingest_batches (run_id) WHERE state IN ('sourced', 'hooked');

-- Every record that did not pass, or a line that could not be read, with its reason
-- (DESIGN.md §3.9: nothing is silently dropped).
CREATE TABLE record_issues (
  id           bigserial PRIMARY KEY,
  run_id       uuid NOT NULL REFERENCES ingest_runs(id) ON DELETE CASCADE,
  batch_index  integer NOT NULL,
  stage        text NOT NULL,
  hook         text,
  source_id    text,
  line_number  integer,
  kind         text NOT NULL,
  reason       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_issues_batch ON record_issues (run_id, batch_index);
-- A repeated stage step must not store its issues twice.
CREATE UNIQUE INDEX record_issues_dedup
  ON record_issues (run_id, batch_index, stage, COALESCE(hook, ''), COALESCE(source_id, ''), COALESCE(line_number, -1), kind);

CREATE TABLE records (
  id             bigserial PRIMARY KEY,
  convention_id  text NOT NULL REFERENCES conventions(id),
  source_id      text NOT NULL,
  run_id         uuid NOT NULL REFERENCES ingest_runs(id),
  batch_index    integer NOT NULL,
  metadata       jsonb NOT NULL,
  files          jsonb NOT NULL DEFAULT '[]'::jsonb,
  published_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT records_convention_source_unique UNIQUE (convention_id, source_id)
);
CREATE INDEX records_run ON records (run_id, batch_index);

CREATE TABLE record_features (
  record_id  bigint NOT NULL REFERENCES records(id) ON DELETE CASCADE,
  hook       text NOT NULL,
  features   jsonb NOT NULL,
  PRIMARY KEY (record_id, hook)
);

-- Transactional outbox (DESIGN.md §3.4): written with the state change, relayed to
-- ingest-events with the event id as job id. Also the run's audit trail.
CREATE TABLE outbox_events (
  id          bigserial PRIMARY KEY,
  event_id    text NOT NULL UNIQUE,
  run_id      uuid NOT NULL,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  relayed_at  timestamptz
);
CREATE INDEX outbox_events_unrelayed ON outbox_events (id) WHERE relayed_at IS NULL;
CREATE INDEX outbox_events_run ON outbox_events (run_id, id);
