import { type BeforeApplicationShutdown, Inject, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { StageConfig, AppConfig } from '#osa/config';
import { describeFailure, ErrorKind, type FailureRecord, type Stage } from '#osa/domain';
import { STAGE_JOB_OBSERVER, type StageJobObserver } from '#osa/observability';
import { backoffDelay, BACKOFF_TYPE, decideRetry, failedReason, type QueueName, redisConnection } from '#osa/queues';
import type { ExhaustionService } from '../accounting/exhaustion.service.js';
import { ConnectionErrorLog } from '../connections/connection-error-log.js';
import { isPipelineJob, parsePipelineJob } from '../jobs/pipeline-job.js';

/**
 * The options a stage's BullMQ Worker is constructed with. BullMQ derives lock renewal
 * (`lockRenewTime`, half the lock) and the lock manager from them in its constructor, so they
 * must all be there when the Worker is built: assigned afterwards, a 2 s lock would still be
 * renewed every 15 s and a long step handed to a second worker while it runs.
 */
export function stageWorkerOptions(config: AppConfig, stageConfig: StageConfig): WorkerOptions {
  const retry = stageConfig.retry;
  return {
    connection: redisConnection(config.redisUrl),
    prefix: config.queuePrefix,
    autorun: false,
    concurrency: stageConfig.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
    settings: {
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
  };
}

/**
 * Base of every stage processor: a thin shell that hosts the stage's BullMQ Worker, runs the
 * handler, maps its error to retry or give-up in one place, and accounts a job that has
 * finally failed. The Worker is built here, at bootstrap, with its final options from the
 * environment (see {@link stageWorkerOptions}), rather than by the Nest BullMQ explorer, which
 * only knows options fixed at decoration time.
 */
export abstract class StageProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  // Property injection keeps the subclasses' constructors unchanged; absent, nothing is measured.
  @Optional() @Inject(STAGE_JOB_OBSERVER) private readonly observer?: StageJobObserver;
  private hosted?: Worker;

  constructor(
    protected readonly config: AppConfig,
    /** The queue this processor consumes. */
    readonly queueName: QueueName,
    private readonly stageConfig: StageConfig,
    /** The stage whose failures are accounted in the ledger; undefined for start-ingest. */
    private readonly accountedStage?: Stage,
    private readonly exhaustion?: ExhaustionService,
  ) {}

  protected abstract handle(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown>;

  onApplicationBootstrap(): void {
    // Three parameters: BullMQ passes the AbortSignal only to a processor that declares it.
    const worker = new Worker(
      this.queueName,
      (job: Job, token?: string, signal?: AbortSignal) => this.process(job, token, signal),
      stageWorkerOptions(this.config, this.stageConfig),
    );
    this.hosted = worker;
    const connectionErrors = new ConnectionErrorLog(this.logger, `worker ${this.queueName}`);
    worker.on('failed', (job, err) => void this.onFailed(job, err));
    // Without a listener BullMQ prints connection errors to stderr as plain text.
    worker.on('error', (err) => connectionErrors.report(err));
    void worker.run().catch((err: Error) => this.logger.error(`worker stopped: ${err.message}`));
  }

  /**
   * SIGTERM: stop taking jobs and let the active ones finish within the grace period. A job
   * still running then is left locked; when the lock lapses the stall checker hands it to
   * another worker, which re-attaches or repeats the step safely (`close()` alone waits for
   * active jobs without any limit).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const worker = this.hosted;
    if (!worker) return;
    const graceMs = this.config.shutdownGraceSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(`active jobs did not finish within ${this.config.shutdownGraceSeconds}s; leaving them to the stall checker`);
      await worker.close(true);
    }
  }

  async process(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    const started = performance.now();
    try {
      // Only the pipeline's own job for a batch may run a stage step (checked before any work).
      if (this.accountedStage) parsePipelineJob(this.queueName, job);
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
   * Runs after every failed attempt; only a final failure is accounted. An in-process listener
   * is lost when the process dies right after BullMQ committed the failure, which is why
   * accounting is idempotent and the reconciler re-drives it.
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
    // A stray job fails alone: its failure says nothing about the batch it names.
    if (failure.kind === ErrorKind.StrayJob || !isPipelineJob(this.queueName, job)) return;
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
    // BullMQ stores the stack, whose first line is the original message: a database error's
    // would carry the query and its parameters (record data) into Redis and Bull Board.
    jobError.stack = [`${err.name}: ${reason}`, ...stackFrames(err.stack)].join('\n');
  } else jobError = new Error(reason);
  // The failure as it was, before its message was prefixed, for the accounting.
  jobError.failure = failure;
  return jobError;
}

type JobError = Error & { failure?: FailureRecord };

function stackFrames(stack: string | undefined): string[] {
  return (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
}

/** BullMQ's DelayedError, saying which backpressure signal held the job (for metrics). */
export type DeferralError = DelayedError & { holdSignal?: string };

export function deferral(holdSignal: string): DeferralError {
  return Object.assign(new DelayedError(), { holdSignal });
}
