import { randomUUID } from 'node:crypto';
import { ErrorKind, PermanentError } from '#osa/domain';
import type { ConventionRepository, Database, RunLedger } from '#osa/persistence';
import { parsePayload, QueueName, startIngestPayloadSchema } from '#osa/queues';
import type { JobProducer } from '../jobs/job-producer.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';

export const DEFAULT_BATCH_SIZE = 200;

export interface StartJob {
  id: string;
  /** When the job was created: with the id, it names the job even if Redis ids restart. */
  timestamp: number;
  data: unknown;
}

/**
 * Handles `start-ingest`: validates the request, creates the run (the database refuses a
 * second active run for a convention), emits IngestRunStarted through the outbox and requests
 * batch 0. Repeating the same job finds its run again and re-requests batch 0, which dedups.
 */
export class StartIngestService {
  constructor(
    private readonly db: Database,
    private readonly ledger: RunLedger,
    private readonly conventions: ConventionRepository,
    private readonly producer: JobProducer,
    private readonly relay: OutboxRelay,
  ) {}

  async start(job: StartJob): Promise<{ runId: string; created: boolean }> {
    const payload = parsePayload(startIngestPayloadSchema, job.data, QueueName.StartIngest);
    const convention = await this.conventions.find(this.db, payload.conventionId);
    if (!convention) {
      throw new PermanentError(`unknown convention "${payload.conventionId}"`, ErrorKind.InvalidConvention);
    }
    if (!convention.ingester) {
      throw new PermanentError(`convention "${convention.id}" has no ingester to pull batches with`, ErrorKind.InvalidConvention);
    }
    const result = await this.ledger.createRun({
      id: randomUUID(),
      conventionId: convention.id,
      startJobId: `${job.id}@${job.timestamp}`,
      convention,
      batchSize: payload.batchSize ?? DEFAULT_BATCH_SIZE,
      recordLimit: payload.limit ?? null,
    });
    if (result.outcome === 'active-run-exists') {
      throw new PermanentError(
        `convention "${convention.id}" already has an active run${result.activeRunId ? ` (${result.activeRunId})` : ''}; wait for it to complete`,
        ErrorKind.InvalidPayload,
      );
    }
    const run = result.run;
    if (run.status === 'pending' || run.status === 'running') await this.producer.requestBatch(run.id, 0);
    await this.relay.flush();
    return { runId: run.id, created: result.outcome === 'created' };
  }
}
