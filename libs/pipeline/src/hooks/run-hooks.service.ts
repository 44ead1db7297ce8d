import path from 'node:path';
import { BatchState, CappedIssues, emptyHookCounts, type HookCounts, type RecordIssue } from '#osa/domain';
import type { RunLedger } from '#osa/persistence';
import { QueueName } from '#osa/queues';
import type { ContainerRunObserver } from '#osa/observability';
import type { ContainerRunner } from '#osa/runners';
import { BatchLayout, type ContainerOutputLimits, DEFAULT_CONTAINER_OUTPUT_LIMITS } from '#osa/storage';
import type { StageJob } from '../ingester/ingest-batch.service.js';
import type { JobProducer } from '../jobs/job-producer.js';
import { loadStageBatch } from '../jobs/load-stage-batch.js';
import type { HookCheckpoint } from './hook-checkpoint.js';
import { BatchRecords } from './batch-records.js';
import { HookExecutor, type HookRunStats, type OomPolicy } from './hook-executor.js';
import { mergePassedRecords } from './merge-passed-records.js';

export type HooksOutcome = { outcome: 'hooked' | 'already-hooked' | 'batch-ended' | 'run-ended' };

/**
 * Handles `ingest-batch-ready`: runs every hook of the convention on the batch until every
 * record has an outcome per hook, writes the records that passed them all, records per-hook
 * counts and every reason in the ledger, then hands the batch to the publisher.
 */
export class RunHooksService {
  constructor(
    private readonly ledger: RunLedger,
    private readonly runner: ContainerRunner,
    private readonly producer: JobProducer,
    private readonly dataDir: string,
    private readonly oomPolicy: OomPolicy,
    private readonly outputLimits: ContainerOutputLimits = DEFAULT_CONTAINER_OUTPUT_LIMITS,
    private readonly observer?: ContainerRunObserver,
  ) {}

  async runHooks(job: StageJob): Promise<HooksOutcome> {
    const { run, batch } = await loadStageBatch(this.ledger, QueueName.BatchReady, job.data);
    const { runId, batchIndex } = batch;
    if (batch.state === BatchState.Hooked) {
      await this.producer.hooksCompleted(runId, batchIndex);
      return { outcome: 'already-hooked' };
    }
    if (batch.state !== BatchState.Sourced) return { outcome: 'batch-ended' };

    const abs = (rel: string) => path.join(this.dataDir, rel);
    const ingesterAttempt = batch.ingesterAttempt!;
    const records = await BatchRecords.read(abs(BatchLayout.hookInputFile(runId, batchIndex, ingesterAttempt)));

    const results: Array<{ name: string; checkpoint: HookCheckpoint; stats: HookRunStats }> = [];
    for (const hook of run.convention.hooks) {
      const executor = new HookExecutor(this.runner, this.dataDir, this.oomPolicy, this.outputLimits, this.observer);
      const checkpoint = await executor.execute({
        runId,
        batchIndex,
        attempt: job.attempt,
        hook,
        filesDir: BatchLayout.ingesterDirs(runId, batchIndex, ingesterAttempt).files,
        records,
        signal: job.signal,
      });
      results.push({ name: hook.name, checkpoint, stats: executor.stats });
    }

    const merged = await mergePassedRecords(
      abs(BatchLayout.batchFile(runId, batchIndex, ingesterAttempt)),
      abs(BatchLayout.passedFile(runId, batchIndex, job.attempt)),
      results,
    );
    const hookCounts: Record<string, HookCounts> = {};
    const issues: RecordIssue[] = [];
    for (const { name, checkpoint, stats } of results) {
      // The container runs are this start's: a start that resumed from a checkpoint ran only what was left.
      const counts: HookCounts = { ...emptyHookCounts(), ...checkpoint.counts(), ...stats };
      const place = { runId, batchIndex, stage: 'hooks', hook: name };
      const listed = new CappedIssues();
      for await (const issue of checkpoint.issues(place)) {
        if (listed.full) break;
        listed.add(issue);
      }
      for (let p = 0; p < records.size; p++) {
        if (checkpoint.hasPosition(p)) continue;
        counts.missing++;
        if (!listed.full)
          listed.add({
            ...place,
            sourceId: records.idAt(p),
            kind: 'missing',
            reason: `hook "${name}" wrote no outcome for this record (missing output)`,
          });
      }
      // Issues are streamed from disk only up to the cap; the rest are known from the counts.
      listed.setTotal(counts.invalid + counts.rejected + counts.errored + counts.missing);
      for (const issue of listed.toRecords(place, `issues of hook "${name}"`)) issues.push(issue);
      hookCounts[name] = counts;
    }
    const recorded = await this.ledger.recordHooked(
      { runId, batchIndex, hooksAttempt: job.attempt, hookCounts, rejectedCount: merged.rejected, erroredCount: merged.errored },
      issues,
    );
    if (recorded.runTerminal) return { outcome: 'run-ended' };
    if (recorded.batch?.state === BatchState.Hooked || recorded.applied) await this.producer.hooksCompleted(runId, batchIndex);
    return { outcome: recorded.applied ? 'hooked' : 'already-hooked' };
  }
}
