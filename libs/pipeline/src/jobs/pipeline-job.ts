import { ErrorKind, PermanentError } from '#osa/domain';
import { type BatchJobPayload, batchJobPayloadSchema, JobId, parsePayload, QueueName } from '#osa/queues';

/** The id the pipeline gives its own job for a batch on each stage queue. */
const PIPELINE_JOB_ID: Partial<Record<QueueName, (runId: string, batchIndex: number) => string>> = {
  [QueueName.NextBatch]: JobId.nextBatch,
  [QueueName.BatchReady]: JobId.batchReady,
  [QueueName.HooksCompleted]: JobId.hooksCompleted,
};

/** A job the run's ledger does not call for: it fails alone, without retries, and the run is never touched. */
export function strayJob(reason: string): PermanentError {
  return new PermanentError(`stray job: ${reason}`, ErrorKind.StrayJob);
}

/**
 * Parses a stage job and checks that it is the pipeline's own job for its batch: the pipeline
 * adds exactly one job per (stage, run, batch), with a deterministic id. A job added under
 * another id by any queue client (Bull Board's "add job" or "duplicate", a script) is refused
 * before it does anything, so it can neither run a second container for the batch nor have
 * its failure accounted on the run.
 */
export function parsePipelineJob(queue: QueueName, job: { id?: string; data: unknown }): BatchJobPayload {
  const payload = parsePayload(batchJobPayloadSchema, job.data, queue);
  const expected = PIPELINE_JOB_ID[queue]?.(payload.runId, payload.batchIndex);
  if (expected !== undefined && job.id !== expected) {
    const shown = String(job.id).slice(0, 200);
    throw strayJob(
      `${queue} job "${shown}" is not the pipeline's job for batch ${payload.batchIndex} of run ${payload.runId} (that is "${expected}"); the pipeline adds its own jobs`,
    );
  }
  return payload;
}

/** Whether a job is the pipeline's own job for the batch it names (a well-formed payload under the expected id). */
export function isPipelineJob(queue: QueueName, job: { id?: string; data: unknown }): boolean {
  try {
    parsePipelineJob(queue, job);
    return true;
  } catch {
    return false;
  }
}
