import { and, count, eq, sql } from 'drizzle-orm';
import type { Executor } from '../database/database.js';
import { recordFeatures, records } from '../schema/tables.js';

export interface PublishableRecord {
  sourceId: string;
  metadata: Record<string, unknown>;
  files: unknown[];
  /** Features per hook name. */
  features: Record<string, unknown[]>;
}

/** Where a chunk of records is published. */
export interface PublishTarget {
  conventionId: string;
  runId: string;
  batchIndex: number;
}

/** Below this size (~500 records) a chunk is inserted without the savepoint fast path. */
const SAVEPOINT_MIN_BYTES = 256 * 1024;

/** Published records and their features, written set-based. */
export class RecordRepository {
  /**
   * Inserts a chunk of records and their features with one statement; a record already
   * published for the convention is left as it is (ON CONFLICT DO NOTHING), and so are its
   * features. Returns how many records this call published.
   */
  async insertChunk(tx: Executor, target: PublishTarget, chunk: readonly PublishableRecord[]): Promise<number> {
    if (chunk.length === 0) return 0;
    return this.insertJsonChunk(
      tx,
      target,
      JSON.stringify(chunk.map((r) => ({ source_id: r.sourceId, metadata: r.metadata, files: r.files, features: r.features }))),
    );
  }

  /**
   * Like insertChunk, for records that are already JSON: `json` is an array of
   * `{"source_id", "metadata", "files", "features"}` objects (the publisher joins the lines of
   * passed.jsonl as they are, without parsing them). Invalid JSON fails the statement.
   */
  async insertJsonChunk(tx: Executor, target: PublishTarget, json: string): Promise<number> {
    // Features of records this very statement inserted cannot exist yet, so they are inserted
    // without ON CONFLICT (speculative insertion costs ~7 % of the statement) — unless the chunk
    // repeats a source id, which makes the statement fail on the features' primary key: then the
    // savepoint is rolled back and the chunk goes again with ON CONFLICT on the features too.
    // A small chunk skips the savepoint: its two extra round trips would cost more than they save.
    if (json.length < SAVEPOINT_MIN_BYTES) return this.insertJson(tx, target, json, true);
    try {
      return await tx.transaction((savepoint) => this.insertJson(savepoint, target, json, false));
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return this.insertJson(tx, target, json, true);
    }
  }

  /**
   * One statement, one round trip: Postgres expands the JSON with jsonb_to_recordset, inserts the
   * records ON CONFLICT (convention_id, source_id) DO NOTHING and, in the same statement, the
   * features of exactly the records it inserted. No per-row parameters are bound in Node.
   */
  private async insertJson(tx: Executor, target: PublishTarget, json: string, featureConflicts: boolean): Promise<number> {
    const onFeatureConflict = featureConflicts ? sql`ON CONFLICT DO NOTHING` : sql``;
    const result = await tx.execute<{ published: number }>(sql`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS t(source_id text, metadata jsonb, files jsonb, features jsonb)
      ), inserted AS (
        INSERT INTO records (convention_id, source_id, run_id, batch_index, metadata, files)
        SELECT ${target.conventionId}, source_id, ${target.runId}::uuid, ${target.batchIndex}::int, metadata, coalesce(files, '[]'::jsonb) FROM input
        ON CONFLICT (convention_id, source_id) DO NOTHING
        RETURNING id, source_id
      ), inserted_features AS (
        INSERT INTO record_features (record_id, hook, features)
        SELECT inserted.id, f.key, f.value
        FROM inserted JOIN input USING (source_id) CROSS JOIN LATERAL jsonb_each(coalesce(input.features, '{}'::jsonb)) AS f
        ${onFeatureConflict}
      )
      SELECT count(*)::int AS published FROM inserted`);
    return result.rows[0]?.published ?? 0;
  }

  async countForRun(db: Executor, runId: string): Promise<number> {
    const [row] = await db.select({ n: count() }).from(records).where(eq(records.runId, runId));
    return row?.n ?? 0;
  }

  async countForConvention(db: Executor, conventionId: string): Promise<number> {
    const [row] = await db.select({ n: count() }).from(records).where(eq(records.conventionId, conventionId));
    return row?.n ?? 0;
  }

  async findBySource(db: Executor, conventionId: string, sourceId: string) {
    const [row] = await db
      .select()
      .from(records)
      .where(and(eq(records.conventionId, conventionId), eq(records.sourceId, sourceId)));
    if (!row) return undefined;
    const features = await db.select().from(recordFeatures).where(eq(recordFeatures.recordId, row.id));
    return { ...row, features: Object.fromEntries(features.map((f) => [f.hook, f.features])) };
  }
}

/** Postgres' unique_violation (23505), as pg reports it directly or drizzle wraps it. */
function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === '23505') return true;
  }
  return false;
}
