import type { Executor } from '../database/database.js';
import type { RecordIssue } from '#osa/domain';
import { recordIssues } from '../schema/tables.js';

const CHUNK = 1000;

/** Reasons for every record that did not pass and every line that could not be read (written by the ledger, read by RunReadModel). */
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
}
