import { type BeforeApplicationShutdown, type FactoryProvider, Logger, type Type } from '@nestjs/common';
import { DelayedError, type Job, Worker, type WorkerOptions } from 'bullmq';
import type { AppConfig, StageConfig } from '#osa/config';
import { describeFailure, ErrorKind } from '#osa/domain';
import { queueTelemetry, StageMetrics } from '#osa/observability';
import { backoffDelay, BACKOFF_TYPE, redisConnection } from '#osa/queues';
import { ExhaustionService } from '../accounting/exhaustion.service.js';
import { ConnectionErrorLog } from '../connections/connection-error-log.js';
import { isPipelineJob, parsePipelineJob } from '../jobs/pipeline-job.js';
import { isDeferral, type JobError, type StageProcessor, toJobError } from './stage-processor.js';
import { APP_CONFIG } from './tokens.js';

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
    telemetry: queueTelemetry(),
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
 * The BullMQ Workers of one service, one per stage processor. Nothing is consumed until
 * {@link start} is called, which the service's entry point does once the application is up
 * (every module initialised, the port bound): a service that fails to start has taken no job.
 * Each Worker is built there with its final options ({@link stageWorkerOptions}) rather than
 * by the Nest BullMQ explorer, which only knows options fixed at decoration time. On shutdown
 * they are closed within the grace period.
 */
export class StageWorkers implements BeforeApplicationShutdown {
  private readonly logger = new Logger(StageWorkers.name);
  private readonly workers: Worker[] = [];
  private started = false;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: StageMetrics,
    private readonly exhaustion: ExhaustionService,
    private readonly processors: readonly StageProcessor[],
  ) {}

  /** The queues these workers consume. */
  get queueNames(): string[] {
    return this.processors.map((p) => p.queueName);
  }

  /** Builds and starts one Worker per processor. */
  start(): void {
    if (this.started) throw new Error('stage workers were already started');
    this.started = true;
    for (const processor of this.processors) this.workers.push(this.startWorker(processor));
    this.logger.log(`consuming ${this.queueNames.join(', ')}`);
  }

  private startWorker(processor: StageProcessor): Worker {
    const logger = new Logger(processor.constructor.name);
    // Three parameters: BullMQ passes the AbortSignal only to a processor that declares it.
    const worker = new Worker(
      processor.queueName,
      (job: Job, token?: string, signal?: AbortSignal) => this.process(processor, job, token, signal),
      stageWorkerOptions(this.config, processor.stageConfig),
    );
    const connectionErrors = new ConnectionErrorLog(logger, `worker ${processor.queueName}`);
    worker.on('failed', (job, err) => void this.onFailed(processor, logger, job, err));
    // Without a listener BullMQ prints connection errors to stderr as plain text.
    worker.on('error', (err) => connectionErrors.report(err));
    void worker.run().catch((err: Error) => logger.error(`worker stopped: ${err.message}`));
    return worker;
  }

  /**
   * SIGTERM: stop taking jobs and let the active ones finish within the grace period. A job
   * still running then is left locked; when the lock lapses the stall checker hands it to
   * another worker, which re-attaches or repeats the step safely (`close()` alone waits for
   * active jobs without any limit).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.close(worker)));
  }

  private async close(worker: Worker): Promise<void> {
    const graceMs = this.config.shutdownGraceSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.warn(`${worker.name}: active jobs did not finish within ${this.config.shutdownGraceSeconds}s; leaving them to the stall checker`);
      await worker.close(true);
    }
  }

  /** One attempt of a job: checked, handled, measured; its error mapped to retry or give-up. */
  async process(processor: StageProcessor, job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    const stage = stageLabel(processor);
    const started = performance.now();
    try {
      // Only the pipeline's own job for a batch may run a stage step (checked before any work).
      if (processor.accountedStage) parsePipelineJob(processor.queueName, job);
      const result = await processor.handle(job, token, signal);
      this.metrics.jobCompleted(stage, job.queueName, (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      // A deferral is BullMQ's own control flow, not a failure.
      if (err instanceof DelayedError) {
        if (isDeferral(err)) this.metrics.jobDeferred(stage, job.queueName, err.holdSignal);
        throw err;
      }
      this.metrics.jobAttemptFailed(stage, job.queueName, (performance.now() - started) / 1000);
      throw toJobError(err);
    }
  }

  /**
   * Runs after every failed attempt; only a final failure is accounted. An in-process listener
   * is lost when the process dies right after BullMQ committed the failure, which is why
   * accounting is idempotent and the reconciler re-drives it.
   */
  private async onFailed(processor: StageProcessor, logger: Logger, job: Job | undefined, err: Error): Promise<void> {
    if (!job) return;
    const final = job.finishedOn !== undefined && job.finishedOn !== null;
    const failure = (err as JobError).failure ?? describeFailure(err);
    this.metrics.jobFailed(stageLabel(processor), job.queueName, failure.kind, final);
    logger.warn(
      `${job.queueName} job ${job.id} ${final ? 'failed for good' : `failed (attempt ${job.attemptsMade})`}: [${failure.kind}] ${failure.reason}`,
    );
    const stage = processor.accountedStage;
    if (!final || !stage) return;
    // A stray job fails alone: its failure says nothing about the batch it names.
    if (failure.kind === ErrorKind.StrayJob || !isPipelineJob(processor.queueName, job)) return;
    try {
      await this.exhaustion.accountFinalFailure(stage, job.data, failure);
    } catch (accountingError) {
      logger.error(`accounting the failure of job ${job.id} failed; the reconciler will retry: ${(accountingError as Error).message}`);
    }
  }
}

/**
 * The service's StageWorkers for its processors (which the service also provides). The stage
 * metrics are required: a service without the metrics module does not start.
 */
export function provideStageWorkers(...processors: Array<Type<StageProcessor>>): FactoryProvider<StageWorkers> {
  return {
    provide: StageWorkers,
    useFactory: (config: AppConfig, metrics: StageMetrics, exhaustion: ExhaustionService, ...instances: StageProcessor[]) =>
      new StageWorkers(config, metrics, exhaustion, instances),
    inject: [APP_CONFIG, StageMetrics, ExhaustionService, ...processors],
  };
}

function stageLabel(processor: StageProcessor): string {
  return processor.accountedStage ?? 'start';
}
