import type { LoggerService } from '@nestjs/common';

/** Distinct messages remembered at most; past it, the quiet periods that ended are forgotten. */
const MAX_TRACKED = 100;

/**
 * Logs a client's errors as JSON log lines, once per burst: while Redis or Postgres is down,
 * every client reports the same error several times a second. The first occurrence of a message
 * is logged at once; repeats of the same message within `quietMs` are counted and reported with
 * its next line. A different message is always logged.
 */
export class ConnectionErrorLog {
  private readonly seen = new Map<string, { quietUntil: number; repeats: number }>();

  constructor(
    private readonly logger: Pick<LoggerService, 'error'>,
    /** What failed, e.g. `queue ingest-next-batch`. */
    private readonly source: string,
    /** How long repeats of one message are counted instead of logged. @defaultValue 30000 */
    private readonly quietMs = 30_000,
  ) {}

  report(err: unknown): void {
    const now = Date.now();
    const message = err instanceof Error ? err.message : String(err);
    const entry = this.seen.get(message);
    if (entry && now < entry.quietUntil) {
      entry.repeats++;
      return;
    }
    const code = (err as { code?: unknown } | undefined)?.code;
    this.logger.error({
      msg: `${this.source}: ${message}`,
      source: this.source,
      ...(typeof code === 'string' ? { code } : {}),
      ...(entry?.repeats ? { repeatsSinceLastLine: entry.repeats } : {}),
    });
    if (this.seen.size >= MAX_TRACKED) {
      for (const [key, value] of this.seen) if (value.quietUntil <= now) this.seen.delete(key);
    }
    if (this.seen.size < MAX_TRACKED || entry) this.seen.set(message, { quietUntil: now + this.quietMs, repeats: 0 });
  }
}
