import { link, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { describeFailure, formatMemory, type HookSpec, OOMError, parseMemory, TransientError, ErrorKind } from '#osa/domain';
import type { ContainerRunObserver } from '#osa/observability';
import type { ContainerRunner } from '#osa/runners';
import { BatchLayout, type ContainerOutputLimits, JsonLinesWriter, LineReader } from '#osa/storage';
import { absorbHookOutput } from './absorb-hook-output.js';
import type { BatchRecords } from './batch-records.js';
import { HookCheckpoint } from './hook-checkpoint.js';

export interface HookExecution {
  runId: string;
  batchIndex: number;
  attempt: number;
  hook: HookSpec;
  /** Files directory relative to DATA_DIR (read-only for hooks). */
  filesDir: string;
  /** The batch, read from its hook input. */
  records: BatchRecords;
  signal?: AbortSignal;
}

export interface OomPolicy {
  memoryCeilingBytes: number;
  retries: number;
  /** Container runs bisection may spend on one hook of one batch before erroring what is left. */
  maxBisectRuns: number;
}

/** What one execution cost in containers: kept with the batch's hook counts in the ledger. */
export interface HookRunStats {
  /** Container runs, OOM re-runs and bisection parts included. */
  containerRuns: number;
  /** Runs killed for memory. */
  oomKills: number;
  /** Re-runs with doubled memory after an OOM kill. */
  memoryEscalations: number;
  /** Runs on a part of the batch at the memory ceiling. */
  bisectionRuns: number;
}

/**
 * Runs one hook over a batch until every record has an outcome, resuming from the hook's
 * checkpoint. On OOM it keeps what was written, re-runs only the records without an outcome,
 * smallest first, with doubled memory (at most `retries` times, never above the ceiling); then
 * it bisects what remains at the last limit, so only records that alone exceed it are errored.
 * A timeout or crash leaves the checkpoint for the job's next attempt.
 */
export class HookExecutor {
  private static readonly logger = new Logger('HookExecutor');
  private step = 0;
  private readonly reader = new LineReader();
  readonly stats: HookRunStats = { containerRuns: 0, oomKills: 0, memoryEscalations: 0, bisectionRuns: 0 };

  constructor(
    private readonly runner: ContainerRunner,
    private readonly dataDir: string,
    private readonly policy: OomPolicy,
    private readonly outputLimits: ContainerOutputLimits,
    private readonly observer?: ContainerRunObserver,
  ) {}

  async execute(job: HookExecution): Promise<HookCheckpoint> {
    const checkpointDir = path.join(this.dataDir, BatchLayout.batch(job.runId, job.batchIndex), 'hooks', 'checkpoint', job.hook.name);
    const checkpoint = await HookCheckpoint.load(checkpointDir, job.records);
    try {
      let pending = positions(job.records.size).filter((p) => !checkpoint.hasPosition(p));
      let memory = parseMemory(job.hook.limits.memory)!;
      for (let retry = 0; pending.length > 0; retry++) {
        try {
          await this.runSubset(job, checkpoint, pending, memory, retry === 0 && pending.length === job.records.size);
          return checkpoint;
        } catch (err) {
          if (!(err instanceof OOMError)) throw err;
          pending = pending.filter((p) => !checkpoint.hasPosition(p));
          const doubled = memory * 2;
          if (retry < this.policy.retries && doubled <= this.policy.memoryCeilingBytes) {
            this.stats.memoryEscalations++;
            this.observer?.memoryEscalated(job.hook.name);
            HookExecutor.logger.warn({
              msg: `hook "${job.hook.name}" killed for memory at ${formatMemory(memory)}; re-running ${pending.length} records at ${formatMemory(doubled)}`,
              event: 'memory_escalation',
              ...where(job),
              memoryBefore: formatMemory(memory),
              memoryAfter: formatMemory(doubled),
              records: pending.length,
              escalation: retry + 1,
            });
            memory = doubled;
            continue;
          }
          await this.bisect(job, checkpoint, pending, memory);
          return checkpoint;
        }
      }
      return checkpoint;
    } finally {
      await this.reader.close();
    }
  }

  /** Runs halves of what an OOM left, at the same limit, down to single records. */
  private async bisect(job: HookExecution, checkpoint: HookCheckpoint, records: readonly number[], memory: number): Promise<void> {
    const remaining = records.filter((p) => !checkpoint.hasPosition(p));
    if (remaining.length === 0) return;
    // A hook that cannot even start within the limit would otherwise run once per record.
    if (this.stats.bisectionRuns >= this.policy.maxBisectRuns) {
      await this.errorRecords(job, checkpoint, remaining, `OOM at ${formatMemory(memory)}; isolation stopped after ${this.stats.bisectionRuns} runs`);
      return;
    }
    if (remaining.length === 1) {
      try {
        await this.bisectionStep(job, checkpoint, remaining, memory);
      } catch (err) {
        if (!(err instanceof OOMError)) throw err;
        if (!checkpoint.hasPosition(remaining[0]!)) await this.errorRecords(job, checkpoint, remaining, `OOM at ${formatMemory(memory)}, alone`);
      }
      return;
    }
    const middle = Math.ceil(remaining.length / 2);
    for (const half of [remaining.slice(0, middle), remaining.slice(middle)]) {
      if (half.length === 1) {
        await this.bisect(job, checkpoint, half, memory);
        continue;
      }
      if (this.stats.bisectionRuns >= this.policy.maxBisectRuns) {
        await this.bisect(job, checkpoint, half, memory);
        continue;
      }
      try {
        await this.bisectionStep(job, checkpoint, half, memory);
      } catch (err) {
        if (!(err instanceof OOMError)) throw err;
        await this.bisect(job, checkpoint, half, memory);
      }
    }
  }

  /** One run on a part of what an OOM left; a part killed for memory again is split further by the caller. */
  private async bisectionStep(job: HookExecution, checkpoint: HookCheckpoint, part: readonly number[], memory: number): Promise<void> {
    this.stats.bisectionRuns++;
    this.observer?.bisectionStep(job.hook.name);
    let outcome = 'succeeded';
    try {
      await this.runSubset(job, checkpoint, part, memory, false);
    } catch (err) {
      outcome = describeFailure(err).kind;
      throw err;
    } finally {
      HookExecutor.logger.warn({
        msg: `hook "${job.hook.name}" bisection run ${this.stats.bisectionRuns} on ${part.length} records at ${formatMemory(memory)}: ${outcome}`,
        event: 'bisection_step',
        ...where(job),
        memoryBefore: formatMemory(memory),
        memoryAfter: formatMemory(memory),
        records: part.length,
        bisectionRun: this.stats.bisectionRuns,
        outcome,
      });
    }
  }

  private async runSubset(
    job: HookExecution,
    checkpoint: HookCheckpoint,
    subset: readonly number[],
    memory: number,
    wholeBatch: boolean,
  ): Promise<void> {
    const step = this.step++;
    const root = path.join(BatchLayout.hooksAttempt(job.runId, job.batchIndex, job.attempt), job.hook.name, `s${step}`);
    const dirs = { in: path.join(root, 'in'), out: path.join(root, 'out'), files: job.filesDir };
    const inDir = path.join(this.dataDir, dirs.in);
    await mkdir(inDir, { recursive: true });
    if (wholeBatch) await link(job.records.hookInput, path.join(inDir, 'records.jsonl'));
    else await this.writeSubset(job.records, path.join(inDir, 'records.jsonl'), subset);
    if (job.hook.config) await writeFile(path.join(inDir, 'config.json'), JSON.stringify(job.hook.config));

    let failure: unknown;
    let failed = false;
    try {
      await this.runner.run({
        role: 'hook',
        hook: job.hook.name,
        runId: job.runId,
        batchIndex: job.batchIndex,
        attempt: job.attempt,
        step,
        image: job.hook.image,
        command: job.hook.command,
        limits: job.hook.limits,
        memoryBytes: memory,
        env: { OSA_BATCH_INDEX: String(job.batchIndex), OSA_RUN_ID: job.runId },
        dirs,
        signal: job.signal,
      });
    } catch (err) {
      failure = err;
      failed = true;
    }
    this.stats.containerRuns++;
    if (failure instanceof OOMError) this.stats.oomKills++;
    this.observer?.containerRun('hooks', job.hook.name, failed ? describeFailure(failure).kind : 'succeeded');
    // What a killed container finished is kept; only a clean or a killed run has output to trust.
    const killed = failure instanceof OOMError || (failure instanceof TransientError && failure.kind === ErrorKind.Timeout);
    if (!failed || killed) {
      const part = await checkpoint.openPart(`a${job.attempt}-s${step}`);
      await absorbHookOutput({
        limits: this.outputLimits,
        outDir: path.join(this.dataDir, dirs.out),
        expected: wholeBatch ? () => true : membership(job.records, subset),
        records: job.records,
        part,
        killed,
        issue: { runId: job.runId, batchIndex: job.batchIndex, stage: 'hooks', hook: job.hook.name },
      });
      await part.commit();
    }
    if (failed) throw failure;
  }

  /** Smallest first, so the records that fit finish before a large one exhausts the memory. */
  private async writeSubset(records: BatchRecords, file: string, subset: readonly number[]): Promise<void> {
    const sorted = [...subset].sort((a, b) => records.sizeHintMb(a) - records.sizeHintMb(b));
    const writer = await JsonLinesWriter.open(file);
    for (const p of sorted) await writer.writeLine(await this.reader.read(records.hookInput, records.offset(p), records.byteLength(p)));
    await writer.close();
  }

  private async errorRecords(job: HookExecution, checkpoint: HookCheckpoint, positions: readonly number[], error: string): Promise<void> {
    const part = await checkpoint.openPart(`a${job.attempt}-oom-${this.step++}`);
    for (const position of positions) {
      await part.add({ id: job.records.idAt(position), outcome: 'errored', error, retryable: false });
    }
    await part.commit();
  }
}

/** The fields that place a log line: which hook, run, batch and attempt. */
function where(job: HookExecution) {
  return { hook: job.hook.name, runId: job.runId, batchIndex: job.batchIndex, attempt: job.attempt };
}

function positions(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Whether an id is one of the subset's records, without a set of strings. */
function membership(records: BatchRecords, subset: readonly number[]): (id: string) => boolean {
  const member = new Uint8Array(records.size);
  for (const p of subset) member[p] = 1;
  return (id) => {
    const p = records.positionOf(id);
    return p !== undefined && member[p] === 1;
  };
}
