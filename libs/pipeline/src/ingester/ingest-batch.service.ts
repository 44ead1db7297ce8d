import { writeFile, mkdir } from 'node:fs/promises';
import type { BackpressurePolicy } from '#osa/config';
import path from 'node:path';
import { BatchState, describeFailure, ErrorKind, HoldSignal, PermanentError } from '#osa/domain';
import type { ContainerRunObserver } from '#osa/observability';
import type { IngestBatchRow, IngestRunRow, RunLedger } from '#osa/persistence';
import { type BatchJobPayload, batchJobPayloadSchema, parsePayload, QueueName } from '#osa/queues';
import type { ContainerRunner, ContainerRunRequest } from '#osa/runners';
import { BatchLayout, type ContainerOutputLimits, DEFAULT_CONTAINER_OUTPUT_LIMITS } from '#osa/storage';
import type { JobProducer } from '../jobs/job-producer.js';
import { strayJob } from '../jobs/pipeline-job.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';
import type { BackpressureGate, Hold } from './backpressure.gate.js';
import { normalizeIngesterOutput } from './normalize-ingester-output.js';

export interface StageJob {
  data: unknown;
  /**
   * A number unique to this start of the job: it names the start's output directories, and the
   * ledger records the one that committed. The stage processors draw it from the database
   * (BullMQ's own start counter restarts at 1 for a job added again, while an earlier start of
   * the same batch may still be writing).
   */
  attempt: number;
  signal?: AbortSignal;
}

export type IngestOutcome =
  | { outcome: 'sourced' | 'already-sourced'; batch: IngestBatchRow }
  | { outcome: 'run-ended' }
  /** The pull must wait: move the job to delayed with `data` (no attempt is used). */
  | { outcome: 'deferred'; hold: Hold; delayMs: number; data: BatchJobPayload; runShortId: string }
  /** Backpressure held the pull longer than allowed: ingestion was failed with that reason. */
  | { outcome: 'backpressure-exhausted'; hold: Hold };

/**
 * When backpressure first held this pull. A job deferred before jobs carried `heldSince` has
 * only the bounded wait's start.
 */
function heldSince(payload: BatchJobPayload): Date | undefined {
  const since = payload.heldSince ?? payload.waitingSince;
  return since === undefined ? undefined : new Date(since);
}

/**
 * Handles `ingest-next-batch` for batch n: runs the ingester with the session batch n-1 wrote,
 * records the batch in the ledger, then requests hooks for n and, while more remains, batch n+1.
 */
export class IngestBatchService {
  constructor(
    private readonly ledger: RunLedger,
    private readonly runner: ContainerRunner,
    private readonly producer: JobProducer,
    private readonly relay: OutboxRelay,
    private readonly dataDir: string,
    private readonly gate: BackpressureGate,
    private readonly policy: BackpressurePolicy,
    private readonly outputLimits: ContainerOutputLimits = DEFAULT_CONTAINER_OUTPUT_LIMITS,
    private readonly observer?: ContainerRunObserver,
  ) {}

  parse(data: unknown): BatchJobPayload {
    return parsePayload(batchJobPayloadSchema, data, QueueName.NextBatch);
  }

  async ingest(job: StageJob): Promise<IngestOutcome> {
    const payload = this.parse(job.data);
    const { runId, batchIndex } = payload;
    const found = await this.ledger.findRunAndBatch(runId, batchIndex);
    if (!found) throw strayJob(`run ${runId} does not exist`);
    const { run, batch: existing } = found;
    if (run.status !== 'pending' && run.status !== 'running') return { outcome: 'run-ended' };

    if (existing) {
      // An earlier attempt sourced this batch and may have crashed before adding its jobs.
      await this.continueAfter(existing);
      return { outcome: 'already-sourced', batch: existing };
    }
    // Checked before anything touches the run (backpressure, markRunning): a job for a batch the
    // ledger does not call for fails alone.
    const previous = batchIndex === 0 ? undefined : await this.ledger.findBatch(runId, batchIndex - 1);
    if (run.ingestionFinished || (batchIndex > 0 && !previous?.hasMore)) throw await this.notNext(run, batchIndex, previous);

    const hold = await this.gate.check(run);
    if (hold) return this.defer(payload, hold);
    if (run.waitingReason) await this.ledger.clearWaiting(runId);

    const ingester = run.convention.ingester;
    if (!ingester) throw new PermanentError(`convention "${run.conventionId}" has no ingester`, ErrorKind.InvalidConvention);
    // Only a limited run needs to know how much its earlier batches took.
    const sourcedBefore = batchIndex === 0 || run.recordLimit === null ? 0 : await this.ledger.recordsBefore(runId, batchIndex);
    const remaining = run.recordLimit === null ? run.batchSize : Math.min(run.batchSize, run.recordLimit - sourcedBefore);
    const session = previous?.nextSession ?? undefined;
    if (run.status === 'pending') await this.ledger.markRunning(runId);

    const dirs = BatchLayout.ingesterDirs(runId, batchIndex, job.attempt);
    const abs = (rel: string) => path.join(this.dataDir, rel);
    await mkdir(abs(dirs.in), { recursive: true });
    if (ingester.config) await writeFile(path.join(abs(dirs.in), 'config.json'), JSON.stringify(ingester.config));
    if (session !== undefined) await writeFile(path.join(abs(dirs.in), 'session.json'), JSON.stringify(session));

    if (remaining > 0) {
      await this.runIngester({
        role: 'ingester',
        runId,
        batchIndex,
        attempt: job.attempt,
        image: ingester.image,
        command: ingester.command,
        limits: ingester.limits,
        permanentExitCodes: ingester.permanent_exit_codes,
        env: { OSA_LIMIT: String(remaining), OSA_BATCH_INDEX: String(batchIndex), OSA_RUN_ID: runId },
        dirs,
        signal: job.signal,
      });
    }

    const normalized = await normalizeIngesterOutput({
      runId,
      batchIndex,
      outDir: abs(dirs.out),
      filesDir: abs(dirs.files),
      filesStoragePath: dirs.files,
      batchFile: abs(BatchLayout.batchFile(runId, batchIndex, job.attempt)),
      hookInputFile: abs(BatchLayout.hookInputFile(runId, batchIndex, job.attempt)),
      limit: Math.max(0, remaining),
      outputLimits: this.outputLimits,
    });
    const limitReached = run.recordLimit !== null && sourcedBefore + normalized.recordCount >= run.recordLimit;
    const hasMore = normalized.session !== undefined && normalized.recordCount > 0 && !limitReached;

    const result = await this.ledger.recordSourced(
      {
        runId,
        batchIndex,
        ingesterAttempt: job.attempt,
        recordCount: normalized.recordCount,
        invalidCount: normalized.invalidCount,
        hasMore,
        nextSession: hasMore ? normalized.session : null,
        waitedFrom: heldSince(payload),
        finishIngestion: !hasMore,
      },
      normalized.issues,
    );
    // Only a completion writes an event here; the periodic relay is the safety net.
    if (result.completed) await this.relay.flush();
    if (result.runTerminal || !result.batch) return { outcome: 'run-ended' };
    await this.continueAfter(result.batch);
    return { outcome: result.applied ? 'sourced' : 'already-sourced', batch: result.batch };
  }

  /**
   * Holds the pull: counts the deferral and the wait on the run, or, once the wait passes the
   * maximum, fails the ingestion with a reason naming the signal (the failure breaker's own
   * pause is not bounded by it). The batches already sourced still go through.
   */
  private async defer(payload: BatchJobPayload, hold: Hold): Promise<IngestOutcome> {
    const now = Date.now();
    const waitingSince = hold.signal === HoldSignal.FailureBreaker ? payload.waitingSince : (payload.waitingSince ?? now);
    if (waitingSince !== undefined && now - waitingSince >= this.policy.maxWaitMs) {
      const waited = Math.round((now - waitingSince) / 1000);
      await this.ledger.failIngestion(payload.runId, payload.batchIndex, {
        kind: ErrorKind.Backpressure,
        reason: `ingestion stopped by backpressure after waiting ${waited}s for ${hold.signal}: ${hold.message}`,
        logTail: [],
      });
      await this.relay.flush();
      return { outcome: 'backpressure-exhausted', hold };
    }
    // Downstream lag clears as soon as a batch is published (which also wakes the pull); the
    // cluster's own pressure is worth a longer wait.
    const delayMs = hold.signal === HoldSignal.DownstreamLag ? this.policy.lagDelayMs : this.policy.delayMs;
    const held = heldSince(payload) ?? new Date(now);
    await this.ledger.recordDeferral(payload.runId, `${hold.signal}: ${hold.message}`, {
      heldSince: held,
      boundedSince: waitingSince === undefined ? undefined : new Date(waitingSince),
    });
    return {
      outcome: 'deferred',
      hold,
      delayMs,
      data: { ...payload, waitingSince, heldSince: held.getTime(), deferrals: (payload.deferrals ?? 0) + 1 },
      runShortId: payload.runId.slice(0, 8),
    };
  }

  /** Runs the ingester, counting the run by its outcome. */
  private async runIngester(request: ContainerRunRequest): Promise<void> {
    try {
      await this.runner.run(request);
      this.observer?.containerRun('ingester', undefined, 'succeeded');
    } catch (err) {
      this.observer?.containerRun('ingester', undefined, describeFailure(err).kind);
      throw err;
    }
  }

  /** Adds the jobs that follow a sourced batch; their ids are deterministic, so repeats dedup. */
  private async continueAfter(batch: IngestBatchRow): Promise<void> {
    if (batch.state === BatchState.Sourced) await this.producer.batchReady(batch.runId, batch.batchIndex);
    if (batch.hasMore) await this.producer.requestBatch(batch.runId, batch.batchIndex + 1);
  }

  /** Why batch n is not the run's next batch to source, as the error that fails its job alone. */
  private async notNext(run: IngestRunRow, batchIndex: number, previous: IngestBatchRow | undefined): Promise<Error> {
    if (run.ingestionFinished) return strayJob(`batch ${batchIndex} of run ${run.id} was requested, but the run's ingestion has finished`);
    const why = previous ? `batch ${batchIndex - 1} left no session to continue from` : `batch ${batchIndex - 1} was never sourced`;
    return strayJob(
      `batch ${batchIndex} of run ${run.id} does not follow from the ledger (${why}); the run's next batch is ${await this.ledger.nextBatchIndex(run.id)}`,
    );
  }
}
