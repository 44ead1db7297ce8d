import { and, count, eq } from 'drizzle-orm';
import type { Executor } from '../database/database.js';
import { recordFeatures, records } from '../schema/tables.js';

export interface PublishableRecord {
  sourceId: string;
  metadata: Record<string, unknown>;
  files: unknown[];
  /** Features per hook name. */
  features: Record<string, unknown[]>;
}

/** Published records and their features, written set-based. */
export class RecordRepository {
  /**
   * Inserts a chunk of records with one statement and their features with another;
   * a record already published for the convention is left as it is (ON CONFLICT DO NOTHING).
   * Returns how many records this call published.
   */
  async insertChunk(
    tx: Executor,
    target: { conventionId: string; runId: string; batchIndex: number },
    chunk: readonly PublishableRecord[],
  ): Promise<number> {
    if (chunk.length === 0) return 0;
    const inserted = await tx
      .insert(records)
      .values(
        chunk.map((r) => ({
          conventionId: target.conventionId,
          sourceId: r.sourceId,
          runId: target.runId,
          batchIndex: target.batchIndex,
          metadata: r.metadata,
          files: r.files,
        })),
      )
      .onConflictDoNothing({ target: [records.conventionId, records.sourceId] })
      .returning({ id: records.id, sourceId: records.sourceId });
    if (inserted.length === 0) return 0;
    const bySource = new Map(chunk.map((r) => [r.sourceId, r]));
    const features = inserted.flatMap(({ id, sourceId }) =>
      Object.entries(bySource.get(sourceId)!.features).map(([hook, list]) => ({ recordId: id, hook, features: list })),
    );
    if (features.length > 0) await tx.insert(recordFeatures).values(features).onConflictDoNothing();
    return inserted.length;
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
