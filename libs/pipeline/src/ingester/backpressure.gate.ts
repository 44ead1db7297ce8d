import type { BackpressurePolicy } from '#osa/config';
import { HoldSignal } from '#osa/domain';
import type { IngestRunRow, RunLedger } from '#osa/persistence';
import type { ContainerRunner } from '#osa/runners';

/** Why the next pull must wait, in words an operator can act on. */
export interface Hold {
  signal: HoldSignal;
  message: string;
}

/**
 * Decides whether the ingester may pull the next batch now: not while the failure breaker has
 * paused the run, not while too many of the run's batches wait downstream, and not while the
 * runner reports no capacity (on Kubernetes: a pod of ours Unschedulable, not merely starting).
 */
export class BackpressureGate {
  constructor(
    private readonly ledger: RunLedger,
    private readonly runner: ContainerRunner,
    private readonly policy: BackpressurePolicy,
  ) {}

  async check(run: IngestRunRow, now = new Date()): Promise<Hold | undefined> {
    const breaker = await this.breaker(run, now);
    if (breaker) return breaker;
    if (this.policy.maxPendingBatches > 0) {
      const open = await this.ledger.countOpenBatches(run.id);
      if (open >= this.policy.maxPendingBatches) {
        return {
          signal: HoldSignal.DownstreamLag,
          message: `${open} batches of this run wait for hooks or publishing (limit ${this.policy.maxPendingBatches})`,
        };
      }
    }
    const capacity = await this.runner.capacity().catch(() => ({ available: true }) as const);
    if (!capacity.available) {
      return { signal: capacity.signal ?? HoldSignal.NoCapacity, message: capacity.message ?? 'the runner reports no capacity' };
    }
    return undefined;
  }

  private async breaker(run: IngestRunRow, now: Date): Promise<Hold | undefined> {
    if (run.pausedUntil) {
      if (run.pausedUntil > now) return { signal: HoldSignal.FailureBreaker, message: run.pauseReason ?? 'paused' };
      await this.ledger.resume(run.id);
      return undefined;
    }
    const { breakerFailureRatio: ratio, breakerMinBatches: min } = this.policy;
    if (ratio <= 0) return undefined;
    const ingested = run.batchesIngested - run.breakerBaselineIngested;
    const failed = run.batchesFailed - run.breakerBaselineFailed;
    if (ingested < min || failed / ingested < ratio) return undefined;
    const until = new Date(now.getTime() + this.policy.breakerPauseMs);
    const reason =
      `${failed} of the last ${ingested} batches failed (breaker at ${Math.round(ratio * 100)}%); ` +
      `pulling paused until ${until.toISOString()} or until an operator resumes the run`;
    await this.ledger.pause(run.id, until, reason);
    return { signal: HoldSignal.FailureBreaker, message: reason };
  }
}
