import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { APP_CONFIG, ConnectionErrorLog, OutboxRelay, ReconcilerService } from '#osa/pipeline';

/**
 * Runs the reconciler and the outbox relay on timers, so a crash anywhere is repaired within
 * one interval. Every replica may run it: each pass is idempotent.
 */
@Injectable()
export class ReconcilerLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerLoop.name);
  private timers: NodeJS.Timeout[] = [];
  private busy = false;
  // While Postgres or Redis is down every pass fails the same way: one line per burst.
  private readonly reconcileErrors = new ConnectionErrorLog(this.logger, 'reconcile pass failed');
  private readonly relayErrors = new ConnectionErrorLog(this.logger, 'outbox relay');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reconciler: ReconcilerService,
    private readonly relay: OutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    this.timers.push(setInterval(() => void this.reconcile(), this.config.reconcileIntervalMs));
    this.timers.push(
      setInterval(() => void this.relay.flush().catch((err: Error) => this.relayErrors.report(err)), this.config.outboxRelayIntervalMs),
    );
  }

  onApplicationShutdown(): void {
    this.timers.forEach(clearInterval);
  }

  async reconcile(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const report = await this.reconciler.reconcileOnce();
      if (report.accounted || report.requeued || report.completed) {
        this.logger.log(
          `reconciled ${report.runs} active runs: ${report.accounted} failures accounted, ${report.requeued} jobs re-added, ${report.completed} runs completed`,
        );
      }
    } catch (err) {
      this.reconcileErrors.report(err);
    } finally {
      this.busy = false;
    }
  }
}
