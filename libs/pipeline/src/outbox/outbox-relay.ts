import type { Queue } from 'bullmq';
import type { Database, OutboxEventRow, OutboxRepository } from '#osa/persistence';
import { type IngestEventPayload, RETENTION } from '#osa/queues';

/**
 * Moves outbox rows to `ingest-events`, the integration point for downstream consumers, with
 * the event id as job id. Rows are written in the transaction of the state change, so an event
 * cannot be lost between commit and enqueue; a repeat re-adds the same id, which BullMQ drops.
 */
export class OutboxRelay {
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Database,
    private readonly outbox: OutboxRepository,
    private readonly events: Queue,
    private readonly retentionHours: number,
  ) {}

  /** Relays everything pending; concurrent calls in one process share one pass. */
  async flush(): Promise<number> {
    if (this.running) return this.running;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Events nobody consumes would pile up in Redis: waiting events older than the retention are
   * dropped from the queue (they stay in Postgres as the run's audit trail).
   */
  async trim(): Promise<number> {
    const removed = await this.events.clean(this.retentionHours * 3600 * 1000, 10_000, 'wait');
    return removed.length;
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const relayed = await this.outbox.relay(this.db, 500, async (rows) => {
        await this.events.addBulk(rows.map((row) => ({ name: row.type, data: toEventPayload(row), opts: { jobId: row.eventId, ...RETENTION } })));
      });
      total += relayed;
      if (relayed < 500) return total;
    }
  }
}

/**
 * The queue message of an outbox row. The outbox is written only with `IngestEvent` values (see
 * OutboxRepository.append), so a row's type and payload belong together.
 */
function toEventPayload(row: OutboxEventRow): IngestEventPayload {
  return { eventId: row.eventId, runId: row.runId, occurredAt: row.createdAt.toISOString(), type: row.type, data: row.payload } as IngestEventPayload;
}
