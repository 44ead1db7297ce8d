import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type HookOutcome, ISSUES_TRUNCATED, MAX_LISTED_ISSUES, type RecordIssue } from '#osa/domain';
import { JsonLinesWriter, LineReader, readJsonLines } from '#osa/storage';
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
  /** Issue kind of an outcome the pipeline decided itself (`conflicting_outcomes`); else the outcome. */
  kind?: string;
}

export interface CheckpointEntry {
  outcome: FinalOutcome;
  file: string;
  offset: number;
  byteLength: number;
}

/** Where an issue stands: everything but what and why. */
export type IssuePlace = Omit<RecordIssue, 'kind' | 'reason' | 'sourceId' | 'lineNumber'>;

const OUTCOMES: readonly FinalOutcome[] = ['passed', 'rejected', 'errored'];
const NONE = 255;
const PASSED = OUTCOMES.indexOf('passed');
/**
 * Issues files written before outcome issues were derived from the outcome lines also hold
 * `rejected` / `errored` issues; those are read from the outcomes now, so they are skipped.
 */
const DERIVED_KINDS = new Set(['rejected', 'errored']);

/**
 * A line of a part's issues file: an issue, or (last, when the part had more than it lists) how
 * many more unusable lines it counted. Only the first issues of a hook and batch are stored in
 * Postgres, so a part need not keep more on disk either.
 */
type IssuesFileLine = RecordIssue | { kind: typeof ISSUES_TRUNCATED; count: number };

/**
 * The outcomes one hook has given a batch so far, kept across OOM retries, transient retries
 * and crashes. Each sub-run commits a part: its issues file first, then its outcomes written to
 * a temporary file and renamed, so a part exists only once it is whole (argo-workflows #3761
 * lost data by trusting half-written output). In memory an outcome is a slot in typed arrays
 * indexed by the record's position, not an object, and issues are only counted: a batch of
 * 500,000 records, or a hook that writes millions of bad lines, must fit a hook-runner's memory.
 *
 * Within a part the last line for a record is its outcome (a sub-run may replace an outcome it
 * wrote, as when the record turns out to have conflicting lines); across parts the first is,
 * since a later sub-run only runs records that have none.
 */
export class HookCheckpoint {
  private readonly files: string[] = [];
  private readonly outcome: Uint8Array;
  private readonly fileIndex: Uint16Array;
  private readonly offset: Float64Array;
  private readonly length: Uint32Array;
  private invalidLines = 0;

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
        const p = records.positionOf(id);
        if (p === undefined) continue;
        if (!checkpoint.hasPosition(p) || checkpoint.fileIndex[p] === index) checkpoint.record(id, outcome, index, line.offset, line.byteLength);
      }
      const issuesFile = issuesFileOf(file);
      if (await stat(issuesFile).catch(() => undefined)) {
        for await (const line of readJsonLines(issuesFile)) {
          const entry = JSON.parse(line.text) as IssuesFileLine;
          if ('count' in entry) checkpoint.invalidLines += entry.count;
          else if (!DERIVED_KINDS.has(entry.kind)) checkpoint.invalidLines++;
        }
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

  /** Records per final outcome, and the hook's output lines that could not be used. */
  counts(): Record<FinalOutcome, number> & { invalid: number } {
    const counts = { passed: 0, rejected: 0, errored: 0, invalid: this.invalidLines };
    for (const o of this.outcome) if (o !== NONE) counts[OUTCOMES[o]!]++;
    return counts;
  }

  /**
   * The issues of the committed parts, streamed from disk in part order: each part's unusable
   * output lines (the first of them, see IssuesFileLine), then a `rejected` / `errored` (or
   * `conflicting_outcomes`) issue per record whose outcome that part holds. At least the first
   * MAX_LISTED_ISSUES of the `counts().invalid + rejected + errored` issues; a caller that lists
   * only some stops iterating and counts the rest.
   */
  async *issues(place: IssuePlace): AsyncGenerator<RecordIssue> {
    // The records whose outcome is not `passed`, in part and line order. Their lines are read
    // back by offset: a part's passed lines (with every feature) are never read again.
    const decided: number[] = [];
    for (let p = 0; p < this.records.size; p++) if (this.outcome[p] !== NONE && this.outcome[p] !== PASSED) decided.push(p);
    decided.sort((a, b) => this.fileIndex[a]! - this.fileIndex[b]! || this.offset[a]! - this.offset[b]!);
    const reader = new LineReader();
    try {
      let next = 0;
      for (const [index, file] of this.files.entries()) {
        const issuesFile = issuesFileOf(file);
        if (await stat(issuesFile).catch(() => undefined)) {
          for await (const line of readJsonLines(issuesFile)) {
            const entry = JSON.parse(line.text) as IssuesFileLine;
            if (!('count' in entry) && !DERIVED_KINDS.has(entry.kind)) yield entry;
          }
        }
        for (; next < decided.length && this.fileIndex[decided[next]!] === index; next++) {
          const p = decided[next]!;
          const outcome = JSON.parse(await reader.read(file, this.offset[p]!, this.length[p]!)) as OutcomeLine;
          yield { ...place, sourceId: outcome.id, kind: outcome.kind ?? outcome.outcome, reason: outcomeReason(outcome) };
        }
      }
    } finally {
      await reader.close();
    }
  }

  async openPart(name: string): Promise<CheckpointPart> {
    const file = path.join(this.dir, `part-${name}.jsonl`);
    const [outcomes, issues] = await Promise.all([JsonLinesWriter.open(file), JsonLinesWriter.open(issuesFileOf(file))]);
    return new CheckpointPart(this, this.addFile(file), outcomes, issues);
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

  /** @internal Parts count the unusable output lines they write down. */
  countInvalidLine(): void {
    this.invalidLines++;
  }

  private addFile(file: string): number {
    this.files.push(file);
    return this.files.length - 1;
  }
}

/**
 * The outcomes of one sub-run, and its issues, streamed to disk as they come. They are visible
 * in the checkpoint as they are written, because a checkpoint lives only as long as one
 * execution of the stage step, and a step whose part fails to commit fails with it; a later step
 * loads only committed parts from disk.
 */
export class CheckpointPart {
  private written = 0;
  private unwritten = 0;

  constructor(
    private readonly checkpoint: HookCheckpoint,
    private readonly fileIndex: number,
    private readonly outcomes: JsonLinesWriter,
    private readonly issueWriter: JsonLinesWriter,
  ) {}

  /** True when the checkpoint already holds an outcome for the id (from this part or before). */
  has(id: string): boolean {
    return this.checkpoint.has(id);
  }

  /** Writes the record's outcome; a later `add` for the same record in this part replaces it. */
  async add(line: OutcomeLine): Promise<void> {
    const at = await this.outcomes.write(line);
    this.checkpoint.record(line.id, line.outcome, this.fileIndex, at.offset, at.byteLength);
  }

  /**
   * Counts an output line that could not be used. The first MAX_LISTED_ISSUES of a part are also
   * written with their reason, built only then: past them a flood of garbage costs a counter per
   * line, not an object, a write and an await.
   * @returns the write to await, or undefined when the issue was only counted.
   */
  addIssue(issue: () => RecordIssue): Promise<void> | undefined {
    this.checkpoint.countInvalidLine();
    if (this.written === MAX_LISTED_ISSUES) {
      this.unwritten++;
      return undefined;
    }
    this.written++;
    return this.issueWriter.write(issue()).then(() => undefined);
  }

  async commit(): Promise<void> {
    if (this.unwritten > 0) await this.issueWriter.write({ kind: ISSUES_TRUNCATED, count: this.unwritten } satisfies IssuesFileLine);
    await this.issueWriter.close();
    await this.outcomes.close();
  }
}

function issuesFileOf(partFile: string): string {
  return partFile.replace(/\.jsonl$/, '.issues.jsonl');
}

function outcomeReason(line: OutcomeLine): string {
  if (line.outcome === 'rejected') return line.reason ?? '';
  return `${line.error ?? ''}${line.retryable ? ' (retryable)' : ''}`;
}
