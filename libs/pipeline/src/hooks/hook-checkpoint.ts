import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HookOutcome } from '#osa/domain';
import type { RecordIssue } from '#osa/persistence';
import { JsonLinesWriter, readJsonLines } from '#osa/storage';
import type { BatchRecords } from './batch-records.js';

export type FinalOutcome = Exclude<HookOutcome, 'missing'>;

/** A record's outcome as the checkpoint keeps it: one normalized line in a committed part. */
export interface OutcomeLine {
  id: string;
  outcome: FinalOutcome;
  features?: unknown[];
  reason?: string;
  error?: string;
  retryable?: boolean;
}

export interface CheckpointEntry {
  outcome: FinalOutcome;
  file: string;
  offset: number;
  byteLength: number;
}

const OUTCOMES: readonly FinalOutcome[] = ['passed', 'rejected', 'errored'];
const NONE = 255;

/**
 * The outcomes one hook has given a batch so far, kept across OOM retries, transient retries
 * and crashes. Each sub-run commits a part: its issues first, then its outcomes written to a
 * temporary file and renamed, so a part exists only once it is whole (argo-workflows #3761
 * lost data by trusting half-written output). In memory an outcome is a slot in typed arrays
 * indexed by the record's position, not an object: a batch of 500,000 records must fit a
 * hook-runner's memory.
 */
export class HookCheckpoint {
  readonly issues: RecordIssue[] = [];
  private readonly files: string[] = [];
  private readonly outcome: Uint8Array;
  private readonly fileIndex: Uint16Array;
  private readonly offset: Float64Array;
  private readonly length: Uint32Array;

  private constructor(
    readonly dir: string,
    private readonly records: BatchRecords,
  ) {
    this.outcome = new Uint8Array(records.size).fill(NONE);
    this.fileIndex = new Uint16Array(records.size);
    this.offset = new Float64Array(records.size);
    this.length = new Uint32Array(records.size);
  }

  static async load(dir: string, records: BatchRecords): Promise<HookCheckpoint> {
    const checkpoint = new HookCheckpoint(dir, records);
    await mkdir(dir, { recursive: true });
    const parts = (await readdir(dir)).filter((f) => /^part-[\w-]+\.jsonl$/.test(f)).sort();
    for (const part of parts) {
      const file = path.join(dir, part);
      const index = checkpoint.addFile(file);
      for await (const line of readJsonLines(file)) {
        const { id, outcome } = JSON.parse(line.text) as OutcomeLine;
        if (!checkpoint.has(id)) checkpoint.record(id, outcome, index, line.offset, line.byteLength);
      }
      const issuesFile = file.replace(/\.jsonl$/, '.issues.jsonl');
      if (await stat(issuesFile).catch(() => undefined)) {
        for await (const line of readJsonLines(issuesFile)) checkpoint.issues.push(JSON.parse(line.text) as RecordIssue);
      }
    }
    return checkpoint;
  }

  has(id: string): boolean {
    const position = this.records.positionOf(id);
    return position !== undefined && this.hasPosition(position);
  }

  hasPosition(position: number): boolean {
    return this.outcome[position] !== NONE;
  }

  get(id: string): CheckpointEntry | undefined {
    const p = this.records.positionOf(id);
    if (p === undefined || !this.hasPosition(p)) return undefined;
    return { outcome: OUTCOMES[this.outcome[p]!]!, file: this.files[this.fileIndex[p]!]!, offset: this.offset[p]!, byteLength: this.length[p]! };
  }

  counts(): Record<FinalOutcome, number> {
    const counts = { passed: 0, rejected: 0, errored: 0 };
    for (const o of this.outcome) if (o !== NONE) counts[OUTCOMES[o]!]++;
    return counts;
  }

  async openPart(name: string): Promise<CheckpointPart> {
    const file = path.join(this.dir, `part-${name}.jsonl`);
    return new CheckpointPart(this, this.addFile(file), await JsonLinesWriter.open(file), file);
  }

  /** @internal Parts record their lines as they write them; ids outside the batch are ignored. */
  record(id: string, outcome: FinalOutcome, fileIndex: number, offset: number, byteLength: number): void {
    const p = this.records.positionOf(id);
    if (p === undefined) return;
    this.outcome[p] = OUTCOMES.indexOf(outcome);
    this.fileIndex[p] = fileIndex;
    this.offset[p] = offset;
    this.length[p] = byteLength;
  }

  private addFile(file: string): number {
    this.files.push(file);
    return this.files.length - 1;
  }
}

/**
 * The outcomes of one sub-run. They are visible in the checkpoint as they are written, because a
 * checkpoint lives only as long as one execution of the stage step, and a step whose part fails
 * to commit fails with it; a later step loads only committed parts from disk.
 */
export class CheckpointPart {
  private readonly issues: RecordIssue[] = [];

  constructor(
    private readonly checkpoint: HookCheckpoint,
    private readonly fileIndex: number,
    private readonly writer: JsonLinesWriter,
    private readonly file: string,
  ) {}

  /** True when the checkpoint already holds an outcome for the id (from this part or before). */
  has(id: string): boolean {
    return this.checkpoint.has(id);
  }

  async add(line: OutcomeLine): Promise<void> {
    const at = await this.writer.write(line);
    this.checkpoint.record(line.id, line.outcome, this.fileIndex, at.offset, at.byteLength);
  }

  addIssue(issue: RecordIssue): void {
    this.issues.push(issue);
  }

  async commit(): Promise<void> {
    const issues = await JsonLinesWriter.open(this.file.replace(/\.jsonl$/, '.issues.jsonl'));
    for (const issue of this.issues) await issues.write(issue);
    await issues.close();
    await this.writer.close();
    this.checkpoint.issues.push(...this.issues);
  }
}
