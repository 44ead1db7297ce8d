import { type BeforeApplicationShutdown, Inject, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { StageConfig, AppConfig } from '#osa/config';
import { describeFailure, type FailureRecord, type Stage } from '#osa/domain';
import { STAGE_JOB_OBSERVER, type StageJobObserver } from '#osa/observability';
import { backoffDelay, BACKOFF_TYPE, decideRetry, failedReason } from '#osa/queues';
import type { ExhaustionService } from '../accounting/exhaustion.service.js';

/**
 * Base of every stage processor: a thin shell that applies the stage's worker settings, runs
 * the handler, maps its error to retry or give-up in one place, and accounts a job that has
 * finally failed. Processors are declared with `{ autorun: false }` so the settings read from
 * the environment are in place before the worker takes its first job.
 */
export abstract class StageProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  // Property injection keeps the subclasses' constructors unchanged; absent, nothing is measured.
  @Optional() @Inject(STAGE_JOB_OBSERVER) private readonly observer?: StageJobObserver;

  constructor(
    protected readonly config: AppConfig,
    private readonly stageConfig: StageConfig,
    /** The stage whose failures are accounted in the ledger; undefined for start-ingest. */
    private readonly accountedStage?: Stage,
    private readonly exhaustion?: ExhaustionService,
  ) {
    super();
  }

  protected abstract handle(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown>;

  onApplicationBootstrap(): void {
    const worker = this.worker;
    const retry = this.stageConfig.retry;
    Object.assign(worker.opts, {
      lockDuration: this.config.worker.lockDurationMs,
      stalledInterval: this.config.worker.stalledIntervalMs,
      maxStalledCount: this.config.worker.maxStalledCount,
      settings: {
        ...worker.opts.settings,
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) =>
          type === BACKOFF_TYPE
            ? backoffDelay(attemptsMade, err, {
                backoffBaseMs: retry.backoffBaseMs,
                backoffCapMs: retry.backoffCapMs,
                unexpectedBaseMs: retry.unexpectedBaseMs,
                unexpectedCapMs: retry.unexpectedCapMs,
              })
            : 0,
      },
    });
    worker.concurrency = this.stageConfig.concurrency;
    worker.on('failed', (job, err) => void this.onFailed(job, err));
    worker.on('error', (err) => this.logger.error(`worker error: ${err.message}`));
    void worker.run().catch((err: Error) => this.logger.error(`worker stopped: ${err.message}`));
  }

  /**
   * SIGTERM: stop taking jobs and let the active ones finish within the grace period. A job
   * still running then is left locked; when the lock lapses the stall checker hands it to
   * another worker, which re-attaches or repeats the step safely (TRAPS.md: close() alone
   * would wait forever).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const graceMs = this.config.shutdownGraceSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([this.worker.close().then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(`active jobs did not finish within ${this.config.shutdownGraceSeconds}s; leaving them to the stall checker`);
      await this.worker.close(true);
    }
  }

  async process(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    const started = performance.now();
    try {
      const result = await this.handle(job, token, signal);
      this.observer?.jobCompleted(this.stageLabel, job.queueName, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      // A deferral is BullMQ's own control flow, not a failure.
      if (err instanceof DelayedError) {
        this.observer?.jobDeferred(this.stageLabel, job.queueName, (err as DeferralError).holdSignal ?? 'unknown');
        throw err;
      }
      this.observer?.jobAttemptFailed(this.stageLabel, job.queueName, (performance.now() - started) / 1000);
      throw toJobError(err);
    }
  }

  private get stageLabel(): string {
    return this.accountedStage ?? 'start';
  }

  /**
   * Runs after every failed attempt; only a final failure is accounted. It may be lost in a
   * crash (TRAPS.md), which is why accounting is idempotent and the reconciler re-drives it.
   */
  private async onFailed(job: Job | undefined, err: Error): Promise<void> {
    if (!job) return;
    const final = job.finishedOn !== undefined && job.finishedOn !== null;
    const failure = (err as JobError).failure ?? describeFailure(err);
    this.observer?.jobFailed(this.stageLabel, job.queueName, failure.kind, final);
    this.logger.warn(
      `${job.queueName} job ${job.id} ${final ? 'failed for good' : `failed (attempt ${job.attemptsMade})`}: [${failure.kind}] ${failure.reason}`,
    );
    if (!final || !this.accountedStage || !this.exhaustion) return;
    try {
      await this.exhaustion.accountFinalFailure(this.accountedStage, job.data, failure);
    } catch (accountingError) {
      this.logger.error(`accounting the failure of job ${job.id} failed; the reconciler will retry: ${(accountingError as Error).message}`);
    }
  }
}

/**
 * Permanent errors become BullMQ's own UnrecoverableError (a subclass would not be recognised);
 * the others keep their class, so the backoff strategy can tell transient from unexpected.
 * Either way the reason reads `[kind] message`, which the reconciler can parse back.
 */
export function toJobError(err: unknown): JobError {
  const failure = describeFailure(err);
  const reason = failedReason(failure.kind, failure.reason);
  let jobError: JobError;
  if (decideRetry(err) === 'give-up') jobError = new UnrecoverableError(reason);
  else if (err instanceof Error) {
    jobError = err;
    jobError.message = reason;
  } else jobError = new Error(reason);
  // The failure as it was, before its message was prefixed, for the accounting.
  jobError.failure = failure;
  return jobError;
}

type JobError = Error & { failure?: FailureRecord };

/** BullMQ's DelayedError, saying which backpressure signal held the job (for metrics). */
export type DeferralError = DelayedError & { holdSignal?: string };

export function deferral(holdSignal: string): DeferralError {
  return Object.assign(new DelayedError(), { holdSignal });
}
