import { Logger } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { StageConfig } from '#osa/config';
import { describeFailure, type FailureRecord, type HoldSignal, type Stage } from '#osa/domain';
import { decideRetry, failedReason, type QueueName } from '#osa/queues';

/**
 * One stage's step, as its worker runs it: the queue it consumes, the stage's concurrency and
 * retry settings, and a thin handler that parses the job, calls the stage's service and lets
 * errors propagate. {@link StageWorkers} hosts it: it builds the BullMQ Worker, checks that the
 * job is the pipeline's own, maps errors to retry or give-up, measures, and accounts a job that
 * has finally failed.
 */
export abstract class StageProcessor {
  protected readonly logger = new Logger(this.constructor.name);

  constructor(
    /** The queue this processor consumes. */
    readonly queueName: QueueName,
    readonly stageConfig: StageConfig,
    /** The stage whose final failures are accounted in the ledger; undefined for start-ingest. */
    readonly accountedStage?: Stage,
  ) {}

  /** Runs one attempt of the job. `signal` aborts when the worker is force-closed. */
  abstract handle(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown>;
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

export type JobError = Error & { failure?: FailureRecord };

function stackFrames(stack: string | undefined): string[] {
  return (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
}

/** BullMQ's DelayedError, saying which backpressure signal held the job (for metrics). */
export type DeferralError = DelayedError & { holdSignal: HoldSignal };

export function deferral(holdSignal: HoldSignal): DeferralError {
  return Object.assign(new DelayedError(), { holdSignal });
}

/** Whether `err` is a deferral made by `deferral` (a bare DelayedError names no signal). */
export function isDeferral(err: unknown): err is DeferralError {
  return err instanceof DelayedError && typeof (err as Partial<DeferralError>).holdSignal === 'string';
}
