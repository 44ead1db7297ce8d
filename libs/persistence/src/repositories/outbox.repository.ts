import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { IngestEvent, IngestEventType } from '#osa/domain';
import type { Executor } from '../database/database.js';
import { type OutboxEventRow, outboxEvents } from '../schema/tables.js';

/** The transactional outbox: events written with the state change that caused them. */
export class OutboxRepository {
  async append(tx: Executor, event: IngestEvent): Promise<void> {
    // The event id is deterministic: a repeated state change finds its event already written.
    await tx.insert(outboxEvents).values(event).onConflictDoNothing({ target: outboxEvents.eventId });
  }

  /**
   * Hands unrelayed events to `deliver` and marks them relayed in one transaction; rows locked
   * by another relay are skipped, so relays in several processes never block each other.
   */
  async relay(db: Executor, limit: number, deliver: (events: OutboxEventRow[]) => Promise<void>): Promise<number> {
    return db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(outboxEvents)
        .where(isNull(outboxEvents.relayedAt))
        .orderBy(asc(outboxEvents.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (rows.length === 0) return 0;
      await deliver(rows);
      await tx
        .update(outboxEvents)
        .set({ relayedAt: sql`now()` })
        .where(
          inArray(
            outboxEvents.id,
            rows.map((r) => r.id),
          ),
        );
      return rows.length;
    });
  }

  async count(db: Executor, runId: string, type: IngestEventType): Promise<number> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(outboxEvents)
      .where(and(eq(outboxEvents.runId, runId), eq(outboxEvents.type, type)));
    return row?.n ?? 0;
  }
}
