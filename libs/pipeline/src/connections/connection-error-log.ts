import type { LoggerService } from '@nestjs/common';

/**
 * Logs a connection's errors as JSON log lines, once per burst: while Redis or Postgres is down,
 * every client reports the same error several times a second. The first error of a burst is
 * logged at once; repeats within `quietMs` are counted and reported with the next line logged.
 */
export class ConnectionErrorLog {
  private suppressed = 0;
  private quietUntil = 0;

  constructor(
    private readonly logger: Pick<LoggerService, 'error'>,
    /** What failed, e.g. `redis (queue ingest-next-batch)`. */
    private readonly source: string,
    /** How long identical-looking errors are counted instead of logged. @defaultValue 30000 */
    private readonly quietMs = 30_000,
  ) {}

  report(err: unknown): void {
    const now = Date.now();
    if (now < this.quietUntil) {
      this.suppressed++;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown } | undefined)?.code;
    this.logger.error({
      msg: `${this.source}: ${message}`,
      source: this.source,
      ...(typeof code === 'string' ? { code } : {}),
      ...(this.suppressed > 0 ? { repeatsSinceLastLine: this.suppressed } : {}),
    });
    this.suppressed = 0;
    this.quietUntil = now + this.quietMs;
  }
}
