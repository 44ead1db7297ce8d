import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HookOutcome } from '#osa/domain';
import type { RecordIssue } from '#osa/persistence';
import { JsonLinesWriter, readJsonLines } from '#osa/storage';

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

/**
 * The outcomes one hook has given a batch so far, kept across OOM retries, transient retries
 * and crashes. Each sub-run commits a part: its issues first, then its outcomes written to a
 * temporary file and renamed, so a part exists only once it is whole (argo-workflows #3761
 * lost data by trusting half-written output).
 */
export class HookCheckpoint {
  readonly entries = new Map<string, CheckpointEntry>();
  readonly issues: RecordIssue[] = [];

  private constructor(readonly dir: string) {}

  static async load(dir: string): Promise<HookCheckpoint> {
    const checkpoint = new HookCheckpoint(dir);
    await mkdir(dir, { recursive: true });
    const parts = (await readdir(dir)).filter((f) => /^part-[\w-]+\.jsonl$/.test(f)).sort();
    for (const part of parts) {
      const file = path.join(dir, part);
      for await (const line of readJsonLines(file)) {
        const { id, outcome } = JSON.parse(line.text) as OutcomeLine;
        if (!checkpoint.entries.has(id)) checkpoint.entries.set(id, { outcome, file, offset: line.offset, byteLength: line.byteLength });
      }
      const issuesFile = file.replace(/\.jsonl$/, '.issues.jsonl');
      if (await stat(issuesFile).catch(() => undefined)) {
        for await (const line of readJsonLines(issuesFile)) checkpoint.issues.push(JSON.parse(line.text) as RecordIssue);
      }
    }
    return checkpoint;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  async openPart(name: string): Promise<CheckpointPart> {
    return CheckpointPart.open(this, path.join(this.dir, `part-${name}.jsonl`));
  }
}

/** The outcomes of one sub-run, visible in the checkpoint only once committed. */
export class CheckpointPart {
  private readonly pending = new Map<string, Omit<CheckpointEntry, 'file'> & { outcome: FinalOutcome }>();
  private readonly issues: RecordIssue[] = [];

  private constructor(
    private readonly checkpoint: HookCheckpoint,
    private readonly file: string,
    private readonly writer: JsonLinesWriter,
  ) {}

  static async open(checkpoint: HookCheckpoint, file: string): Promise<CheckpointPart> {
    return new CheckpointPart(checkpoint, file, await JsonLinesWriter.open(file));
  }

  /** True when this part or the checkpoint already holds an outcome for the id. */
  has(id: string): boolean {
    return this.pending.has(id) || this.checkpoint.has(id);
  }

  async add(line: OutcomeLine): Promise<void> {
    const at = await this.writer.write(line);
    this.pending.set(line.id, { outcome: line.outcome, ...at });
  }

  addIssue(issue: RecordIssue): void {
    this.issues.push(issue);
  }

  async commit(): Promise<void> {
    const issues = await JsonLinesWriter.open(this.file.replace(/\.jsonl$/, '.issues.jsonl'));
    for (const issue of this.issues) await issues.write(issue);
    await issues.close();
    await this.writer.close();
    for (const [id, entry] of this.pending) this.checkpoint.entries.set(id, { ...entry, file: this.file });
    this.checkpoint.issues.push(...this.issues);
  }
}
