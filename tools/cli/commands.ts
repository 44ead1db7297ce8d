import { readFile } from 'node:fs/promises';
import { Queue } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { parseConvention } from '#osa/domain';
import { ConventionRepository, type Database, locateMigrations, migrate, RunReadModel, type RunSummary } from '#osa/persistence';
import {
  BACKOFF_TYPE,
  JobName,
  QueueName,
  redisConnection,
  RETENTION,
  type StartIngestPayload,
  startIngestPayloadSchema,
  parsePayload,
} from '#osa/queues';
import { pollUntil } from './poll-until.js';
import { progressLine, runCard } from './run-report.js';

export async function migrateCommand(config: AppConfig): Promise<string> {
  const result = await migrate(config.databaseUrl, process.env.MIGRATIONS_DIR ?? locateMigrations());
  return `migrations applied: ${result.applied.length ? result.applied.join(', ') : 'none'} (already applied: ${result.alreadyApplied.length})`;
}

export async function applyConventionCommand(db: Database, file: string): Promise<string> {
  const convention = parseConvention(await readFile(file, 'utf8'), file);
  const { created } = await new ConventionRepository().upsert(db, convention);
  return `convention "${convention.id}" ${created ? 'registered' : 'updated'} (${convention.hooks.length} hooks)`;
}

/** Publishes a start-ingest job, exactly as any BullMQ client would. */
export async function publishStart(config: AppConfig, payload: StartIngestPayload): Promise<string> {
  const data = parsePayload(startIngestPayloadSchema, payload, QueueName.StartIngest);
  const queue = new Queue(QueueName.StartIngest, { connection: redisConnection(config.redisUrl), prefix: config.queuePrefix });
  try {
    const job = await queue.add(JobName.StartIngest, data, { attempts: 5, backoff: { type: BACKOFF_TYPE }, ...RETENTION });
    return job.id!;
  } finally {
    await queue.close();
  }
}

/** Waits for a start job to create its run; rejects with the job's reason if it was refused. */
export async function awaitRunId(config: AppConfig, jobId: string, timeoutMs = 120_000): Promise<string> {
  const queue = new Queue(QueueName.StartIngest, { connection: redisConnection(config.redisUrl), prefix: config.queuePrefix });
  try {
    await pollUntil(
      `start-ingest job ${jobId} to be taken (is the ingester-runner running?)`,
      async () => ['completed', 'failed'].includes(await queue.getJobState(jobId)),
      { timeoutMs, intervalMs: 100 },
    );
    const job = (await queue.getJob(jobId))!;
    if (job.failedReason) throw new Error(`start refused: ${job.failedReason}`);
    return (job.returnvalue as { runId: string }).runId;
  } finally {
    await queue.close();
  }
}

/** Shows progress until the run ends; one line per change when not on a terminal. */
export async function followRun(db: Database, runId: string, out: NodeJS.WriteStream, timeoutMs = 3_600_000): Promise<RunSummary> {
  const reads = new RunReadModel(db);
  const started = Date.now();
  let lastLine = '';
  return pollUntil(
    `run ${runId} to end`,
    async () => {
      const detail = await reads.getRun(runId);
      if (!detail) throw new Error(`run ${runId} does not exist`);
      const run = detail.summary;
      const line = progressLine(run, detail.batchesByState, started);
      if (line !== lastLine) {
        if (out.isTTY) out.write(`\r\x1b[2K${line}`);
        else out.write(`${line}\n`);
        lastLine = line;
      }
      if (run.status === 'completed') {
        if (out.isTTY) out.write('\n');
        return run;
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export async function statusCommand(db: Database, runId: string): Promise<{ run: RunSummary; issuesNotListed: number; text: string } | undefined> {
  const reads = new RunReadModel(db);
  const detail = await reads.getRun(runId);
  if (!detail) return undefined;
  const failed = await reads.listBatches(runId, { states: ['failed'] });
  return { run: detail.summary, issuesNotListed: detail.issuesNotListed, text: runCard(detail, failed.items) };
}
