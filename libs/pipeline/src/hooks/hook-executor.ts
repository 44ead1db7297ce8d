import { link, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatMemory, type HookSpec, OOMError, parseMemory, TransientError, ErrorKind } from '#osa/domain';
import type { ContainerRunner } from '#osa/runners';
import { BatchLayout, JsonLinesWriter, LineReader } from '#osa/storage';
import { absorbHookOutput } from './absorb-hook-output.js';
import { HookCheckpoint } from './hook-checkpoint.js';

/** A record of the batch as hooks see it: where its line is in the hook input, and its size hint. */
export interface RecordRef {
  id: string;
  offset: number;
  byteLength: number;
  sizeHintMb: number;
}

export interface HookExecution {
  runId: string;
  batchIndex: number;
  attempt: number;
  hook: HookSpec;
  /** Absolute path of the batch's hook input. */
  hookInput: string;
  /** Files directory relative to DATA_DIR (read-only for hooks). */
  filesDir: string;
  records: readonly RecordRef[];
  batchIds: ReadonlySet<string>;
  signal?: AbortSignal;
}

export interface OomPolicy {
  memoryCeilingBytes: number;
  retries: number;
}

/**
 * Runs one hook over a batch until every record has an outcome, resuming from the hook's
 * checkpoint. On OOM it keeps what was written, re-runs only the records without an outcome,
 * smallest first, with doubled memory (at most `retries` times, never above the ceiling); then
 * it bisects what remains at the last limit, so only records that alone exceed it are errored.
 * A timeout or crash leaves the checkpoint for the job's next attempt.
 */
export class HookExecutor {
  private step = 0;
  private readonly reader = new LineReader();

  constructor(
    private readonly runner: ContainerRunner,
    private readonly dataDir: string,
    private readonly policy: OomPolicy,
  ) {}

  async execute(job: HookExecution): Promise<HookCheckpoint> {
    const checkpointDir = path.join(this.dataDir, BatchLayout.batch(job.runId, job.batchIndex), 'hooks', 'checkpoint', job.hook.name);
    const checkpoint = await HookCheckpoint.load(checkpointDir);
    try {
      let pending = job.records.filter((r) => !checkpoint.has(r.id));
      let memory = parseMemory(job.hook.limits.memory)!;
      for (let retry = 0; pending.length > 0; retry++) {
        try {
          await this.runSubset(job, checkpoint, pending, memory, retry === 0 && pending.length === job.records.length);
          return checkpoint;
        } catch (err) {
          if (!(err instanceof OOMError)) throw err;
          pending = pending.filter((r) => !checkpoint.has(r.id));
          const doubled = memory * 2;
          if (retry < this.policy.retries && doubled <= this.policy.memoryCeilingBytes) {
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
  private async bisect(job: HookExecution, checkpoint: HookCheckpoint, records: readonly RecordRef[], memory: number): Promise<void> {
    const remaining = records.filter((r) => !checkpoint.has(r.id));
    if (remaining.length === 0) return;
    if (remaining.length === 1) {
      try {
        await this.runSubset(job, checkpoint, remaining, memory, false);
      } catch (err) {
        if (!(err instanceof OOMError)) throw err;
        if (!checkpoint.has(remaining[0]!.id)) await this.errorAlone(job, checkpoint, remaining[0]!, memory);
      }
      return;
    }
    const middle = Math.ceil(remaining.length / 2);
    for (const half of [remaining.slice(0, middle), remaining.slice(middle)]) {
      if (half.length === 1) {
        await this.bisect(job, checkpoint, half, memory);
        continue;
      }
      try {
        await this.runSubset(job, checkpoint, half, memory, false);
      } catch (err) {
        if (!(err instanceof OOMError)) throw err;
        await this.bisect(job, checkpoint, half, memory);
      }
    }
  }

  private async runSubset(job: HookExecution, checkpoint: HookCheckpoint, subset: readonly RecordRef[], memory: number, wholeBatch: boolean): Promise<void> {
    const step = this.step++;
    const root = path.join(BatchLayout.hooksAttempt(job.runId, job.batchIndex, job.attempt), job.hook.name, `s${step}`);
    const dirs = { in: path.join(root, 'in'), out: path.join(root, 'out'), files: job.filesDir };
    const inDir = path.join(this.dataDir, dirs.in);
    await mkdir(inDir, { recursive: true });
    if (wholeBatch) await link(job.hookInput, path.join(inDir, 'records.jsonl'));
    else await this.writeSubset(job.hookInput, path.join(inDir, 'records.jsonl'), subset);
    if (job.hook.config) await writeFile(path.join(inDir, 'config.json'), JSON.stringify(job.hook.config));

    let failure: unknown;
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
    }
    // What a killed container finished is kept; only a clean or a killed run has output to trust.
    const killed = failure instanceof OOMError || (failure instanceof TransientError && failure.kind === ErrorKind.Timeout);
    if (failure === undefined || killed) {
      const part = await checkpoint.openPart(`a${job.attempt}-s${step}`);
      await absorbHookOutput({
        outDir: path.join(this.dataDir, dirs.out),
        expected: new Set(subset.map((r) => r.id)),
        batchIds: job.batchIds,
        part,
        killed,
        issue: { runId: job.runId, batchIndex: job.batchIndex, stage: 'hooks', hook: job.hook.name },
      });
      await part.commit();
    }
    if (failure !== undefined) throw failure;
  }

  /** Smallest first, so the records that fit finish before a large one exhausts the memory. */
  private async writeSubset(hookInput: string, file: string, subset: readonly RecordRef[]): Promise<void> {
    const sorted = [...subset].sort((a, b) => a.sizeHintMb - b.sizeHintMb);
    const writer = await JsonLinesWriter.open(file);
    for (const record of sorted) await writer.write(JSON.parse(await this.reader.read(hookInput, record.offset, record.byteLength)));
    await writer.close();
  }

  private async errorAlone(job: HookExecution, checkpoint: HookCheckpoint, record: RecordRef, memory: number): Promise<void> {
    const part = await checkpoint.openPart(`a${job.attempt}-oom-${this.step++}`);
    const error = `OOM at ${formatMemory(memory)}, alone`;
    await part.add({ id: record.id, outcome: 'errored', error, retryable: false });
    part.addIssue({ runId: job.runId, batchIndex: job.batchIndex, stage: 'hooks', hook: job.hook.name, sourceId: record.id, kind: 'errored', reason: error });
    await part.commit();
  }
}
