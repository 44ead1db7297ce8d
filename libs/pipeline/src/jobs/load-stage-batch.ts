import type { IngestBatchRow, IngestRunRow, RunLedger } from '#osa/persistence';
import { batchJobPayloadSchema, parsePayload, type QueueName } from '#osa/queues';
import { strayJob } from './pipeline-job.js';

/**
 * Parses a stage job for a sourced batch and loads its run and ledger row; a job naming a run or
 * batch that does not exist is a stray job: a permanent, explained failure that touches nothing.
 */
export async function loadStageBatch(ledger: RunLedger, queue: QueueName, data: unknown): Promise<{ run: IngestRunRow; batch: IngestBatchRow }> {
  const { runId, batchIndex } = parsePayload(batchJobPayloadSchema, data, queue);
  const found = await ledger.findRunAndBatch(runId, batchIndex);
  if (!found) throw strayJob(`run ${runId} does not exist`);
  const { run, batch } = found;
  if (!batch) throw strayJob(`batch ${batchIndex} of run ${runId} was never sourced`);
  return { run, batch };
}
