import { link, mkdir, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { BatchState, ErrorKind, type HookCounts, PermanentError } from '#osa/domain';
import type { Database, RecordIssue, RunLedger } from '#osa/persistence';
import { batchJobPayloadSchema, parsePayload, QueueName } from '#osa/queues';
import type { ContainerRunner } from '#osa/runners';
import { BatchLayout, readJsonLines } from '#osa/storage';
import type { StageJob } from '../ingester/ingest-batch.service.js';
import type { JobProducer } from '../jobs/job-producer.js';
import type { OutboxRelay } from '../outbox/outbox-relay.js';
import { collectHookOutcomes, type HookOutcomes } from './collect-hook-outcomes.js';
import { mergePassedRecords } from './merge-passed-records.js';

export type HooksOutcome = { outcome: 'hooked' | 'already-hooked' | 'batch-ended' | 'run-ended' };

/**
 * Handles `ingest-batch-ready`: runs every hook of the convention on the batch, gives every
 * record an outcome per hook, writes the records that passed them all, records the counts and
 * reasons in the ledger, then hands the batch to the publisher.
 */
export class RunHooksService {
  constructor(
    private readonly db: Database,
    private readonly ledger: RunLedger,
    private readonly runner: ContainerRunner,
    private readonly producer: JobProducer,
    private readonly relay: OutboxRelay,
    private readonly dataDir: string,
  ) {}

  async runHooks(job: StageJob): Promise<HooksOutcome> {
    const { runId, batchIndex } = parsePayload(batchJobPayloadSchema, job.data, QueueName.BatchReady);
    const run = await this.ledger.runs.find(this.db, runId);
    if (!run) throw new PermanentError(`run ${runId} does not exist`, ErrorKind.InvalidPayload);
    const batch = await this.ledger.batches.find(this.db, runId, batchIndex);
    if (!batch) throw new PermanentError(`batch ${batchIndex} of run ${runId} was never sourced`, ErrorKind.InvalidPayload);
    if (batch.state === BatchState.Hooked) {
      await this.producer.hooksCompleted(runId, batchIndex);
      return { outcome: 'already-hooked' };
    }
    if (batch.state !== BatchState.Sourced) return { outcome: 'batch-ended' };

    const abs = (rel: string) => path.join(this.dataDir, rel);
    const ingesterAttempt = batch.ingesterAttempt!;
    const batchFile = abs(BatchLayout.batchFile(runId, batchIndex, ingesterAttempt));
    const hookInput = abs(BatchLayout.hookInputFile(runId, batchIndex, ingesterAttempt));
    const filesDir = BatchLayout.ingesterDirs(runId, batchIndex, ingesterAttempt).files;
    const batchIds = new Set<string>();
    for await (const line of readJsonLines(hookInput)) batchIds.add((JSON.parse(line.text) as { id: string }).id);

    const results: HookOutcomes[] = [];
    for (const hook of run.convention.hooks) {
      const dirs = BatchLayout.hookDirs(runId, batchIndex, job.attempt, hook.name, filesDir);
      await mkdir(abs(dirs.in), { recursive: true });
      await linkOrCopy(hookInput, path.join(abs(dirs.in), 'records.jsonl'));
      if (hook.config) await writeFile(path.join(abs(dirs.in), 'config.json'), JSON.stringify(hook.config));
      await this.runner.run({
        role: 'hook',
        hook: hook.name,
        runId,
        batchIndex,
        attempt: job.attempt,
        image: hook.image,
        command: hook.command,
        limits: hook.limits,
        env: { OSA_BATCH_INDEX: String(batchIndex), OSA_RUN_ID: runId },
        dirs,
        signal: job.signal,
      });
      results.push(await collectHookOutcomes({ runId, batchIndex, hook: hook.name, outDir: abs(dirs.out), batchIds }));
    }

    const merged = await mergePassedRecords(batchFile, abs(BatchLayout.passedFile(runId, batchIndex, job.attempt)), results);
    const hookCounts: Record<string, HookCounts> = Object.fromEntries(results.map((r) => [r.hook, r.counts]));
    const issues: RecordIssue[] = results.flatMap((r) => r.issues);
    const recorded = await this.ledger.recordHooked(
      { runId, batchIndex, hooksAttempt: job.attempt, hookCounts, rejectedCount: merged.rejected, erroredCount: merged.errored },
      issues,
    );
    if (recorded.runTerminal) return { outcome: 'run-ended' };
    if (recorded.batch?.state === BatchState.Hooked || recorded.applied) await this.producer.hooksCompleted(runId, batchIndex);
    await this.relay.flush();
    return { outcome: recorded.applied ? 'hooked' : 'already-hooked' };
  }
}

/** Hooks get the batch as their own read-only input; a hard link costs nothing on one volume. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    await copyFile(from, to);
  }
}
