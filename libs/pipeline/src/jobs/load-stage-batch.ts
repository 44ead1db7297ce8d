import { ErrorKind, PermanentError } from '#osa/domain';
import type { Database, IngestBatchRow, IngestRunRow, RunLedger } from '#osa/persistence';
import { batchJobPayloadSchema, parsePayload, type QueueName } from '#osa/queues';

/**
 * Parses a stage job for a sourced batch and loads its run and ledger row; a job naming a run or
 * batch that does not exist is a permanent, explained failure.
 */
export async function loadStageBatch(
  db: Database,
  ledger: RunLedger,
  queue: QueueName,
  data: unknown,
): Promise<{ run: IngestRunRow; batch: IngestBatchRow }> {
  const { runId, batchIndex } = parsePayload(batchJobPayloadSchema, data, queue);
  const found = await ledger.batches.findWithRun(db, runId, batchIndex);
  if (!found) throw new PermanentError(`run ${runId} does not exist`, ErrorKind.InvalidPayload);
  const { run, batch } = found;
  if (!batch) throw new PermanentError(`batch ${batchIndex} of run ${runId} was never sourced`, ErrorKind.InvalidPayload);
  return { run, batch };
}
