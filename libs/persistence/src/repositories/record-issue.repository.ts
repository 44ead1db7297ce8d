import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../database/database.js';
import { ISSUES_TRUNCATED, type RecordIssue } from '#osa/domain';
import { recordIssues } from '../schema/tables.js';

const CHUNK = 1000;

/** Reasons for every record that did not pass and every line that could not be read. */
export class RecordIssueRepository {
  async insertMany(tx: Executor, issues: readonly RecordIssue[]): Promise<void> {
    for (let i = 0; i < issues.length; i += CHUNK) {
      // A repeated stage step writes the same issues again; the dedup index keeps one copy.
      await tx
        .insert(recordIssues)
        .values(issues.slice(i, i + CHUNK))
        .onConflictDoNothing();
    }
  }

  list(db: Executor, runId: string, batchIndex?: number, limit = 100) {
    return db
      .select()
      .from(recordIssues)
      .where(and(eq(recordIssues.runId, runId), batchIndex === undefined ? undefined : eq(recordIssues.batchIndex, batchIndex)))
      .orderBy(asc(recordIssues.id))
      .limit(limit);
  }

  async countByKind(db: Executor, runId: string): Promise<Record<string, number>> {
    const rows = await db
      .select({ kind: recordIssues.kind, n: sql<number>`count(*)::int` })
      .from(recordIssues)
      .where(eq(recordIssues.runId, runId))
      .groupBy(recordIssues.kind);
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  /**
   * Issues that were counted but not stored: the sum of the counts that `issues_truncated`
   * lines start with (their reason is written only by `CappedIssues`, never by a container).
   */
  async countUnlisted(db: Executor, runId: string): Promise<number> {
    const [row] = await db
      .select({ n: sql<string | null>`sum(substring(${recordIssues.reason} from '^[0-9]+')::bigint)` })
      .from(recordIssues)
      .where(and(eq(recordIssues.runId, runId), eq(recordIssues.kind, ISSUES_TRUNCATED)));
    return Number(row?.n ?? 0);
  }
}
