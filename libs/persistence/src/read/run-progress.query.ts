import { sql } from 'drizzle-orm';
import { RunStatus } from '#osa/domain';
import type { Executor } from '../database/database.js';

/**
 * Seconds since the ledger last recorded progress for the active run that has gone longest
 * without any: its start, or the latest change to any of its batches (every transition, replay
 * included, moves `updated_at`). A deferral is not progress: a run whose pulls backpressure has
 * held for long is not moving either. 0 when no run is active. One number over all
 * active runs rather than one per run, so the metric and alert built on it never add a time
 * series per run. The database's clock is used for both ends, so a service with a skewed clock
 * cannot make a run look stuck.
 */
export async function longestRunStallSeconds(db: Executor): Promise<number> {
  const result = await db.execute<{ seconds: string | number | null }>(sql`
    SELECT max(extract(epoch FROM now() - greatest(r.created_at, r.started_at, b.last_change))) AS seconds
    FROM ingest_runs r
    LEFT JOIN LATERAL (SELECT max(updated_at) AS last_change FROM ingest_batches WHERE run_id = r.id) b ON true
    WHERE r.status IN (${RunStatus.Pending}, ${RunStatus.Running})`);
  return seconds(result.rows[0]?.seconds);
}

/**
 * Seconds the longest current backpressure wait among active runs has lasted, from the first
 * deferral of the held pull (not the latest one), counting only the wait that
 * BACKPRESSURE_MAX_WAIT_MS bounds: a pull held only by the failure breaker does not count. 0
 * when no pull waits. One number over all runs, like longestRunStallSeconds. The wait's start is
 * the ingester's clock, the one its own maximum is checked against.
 */
export async function longestBackpressureWaitSeconds(db: Executor): Promise<number> {
  const result = await db.execute<{ seconds: string | number | null }>(sql`
    SELECT max(extract(epoch FROM now() - backpressure_wait_since)) AS seconds
    FROM ingest_runs
    WHERE status IN (${RunStatus.Pending}, ${RunStatus.Running}) AND backpressure_wait_since IS NOT NULL`);
  return seconds(result.rows[0]?.seconds);
}

function seconds(value: string | number | null | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? Math.max(0, n) : 0;
}
