import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import {
  emptyHookCounts,
  formatIssues,
  hookErrorLineSchema,
  hookFeatureLineSchema,
  HookOutcome,
  type HookCounts,
  hookRejectionLineSchema,
} from '#osa/domain';
import type { RecordIssue } from '#osa/persistence';
import { readJsonLines } from '#osa/storage';

/** Where a passed record's features line sits in features.jsonl, so it can be read again without holding it. */
export interface FeatureLocation {
  offset: number;
  byteLength: number;
}

export interface HookOutcomes {
  hook: string;
  /** Outcome per record id of the batch. Records absent here are missing. */
  outcomes: Map<string, HookOutcome>;
  features: Map<string, FeatureLocation>;
  featuresFile: string;
  counts: HookCounts;
  issues: RecordIssue[];
}

const OUTPUTS = [
  { file: 'features.jsonl', outcome: HookOutcome.Passed, schema: hookFeatureLineSchema },
  { file: 'rejections.jsonl', outcome: HookOutcome.Rejected, schema: hookRejectionLineSchema },
  { file: 'errors.jsonl', outcome: HookOutcome.Errored, schema: hookErrorLineSchema },
] as const;

/**
 * Reads one hook's output files and gives every record of the batch exactly one outcome.
 * Lines that do not parse, name an id outside the batch, or repeat an id are counted as
 * invalid with their reason; a record with no line is "missing output" (errored).
 */
export async function collectHookOutcomes(args: {
  runId: string;
  batchIndex: number;
  hook: string;
  outDir: string;
  batchIds: ReadonlySet<string>;
}): Promise<HookOutcomes> {
  const { runId, batchIndex, hook } = args;
  const outcomes = new Map<string, HookOutcome>();
  const features = new Map<string, FeatureLocation>();
  const counts = emptyHookCounts();
  const issues: RecordIssue[] = [];
  const base = { runId, batchIndex, stage: 'hooks', hook };

  for (const output of OUTPUTS) {
    const file = path.join(args.outDir, output.file);
    if (!(await stat(file).catch(() => undefined))) continue;
    for await (const line of readJsonLines(file)) {
      let parsed: z.output<typeof output.schema>;
      try {
        const result = output.schema.safeParse(JSON.parse(line.text));
        if (!result.success) throw new Error(formatIssues(result.error.issues).join('; '));
        parsed = result.data;
      } catch (err) {
        counts.invalid++;
        issues.push({ ...base, lineNumber: line.lineNumber, kind: 'invalid_output', reason: `${output.file} line ${line.lineNumber}: ${(err as Error).message}` });
        continue;
      }
      if (!args.batchIds.has(parsed.id)) {
        counts.invalid++;
        issues.push({ ...base, lineNumber: line.lineNumber, sourceId: parsed.id, kind: 'unknown_id', reason: `${output.file} line ${line.lineNumber} names id "${parsed.id}", which is not in the batch` });
        continue;
      }
      if (outcomes.has(parsed.id)) {
        counts.invalid++;
        issues.push({ ...base, lineNumber: line.lineNumber, sourceId: parsed.id, kind: 'duplicate_outcome', reason: `${output.file} line ${line.lineNumber} gives "${parsed.id}" a second outcome; the first (${outcomes.get(parsed.id)}) is kept` });
        continue;
      }
      outcomes.set(parsed.id, output.outcome);
      counts[output.outcome]++;
      if (output.outcome === HookOutcome.Passed) features.set(parsed.id, { offset: line.offset, byteLength: line.byteLength });
      else if (output.outcome === HookOutcome.Rejected) {
        issues.push({ ...base, sourceId: parsed.id, kind: 'rejected', reason: (parsed as { reason: string }).reason });
      } else {
        const e = parsed as { error: string; retryable: boolean };
        issues.push({ ...base, sourceId: parsed.id, kind: 'errored', reason: `${e.error}${e.retryable ? ' (retryable)' : ''}` });
      }
    }
  }
  for (const id of args.batchIds) {
    if (outcomes.has(id)) continue;
    counts.missing++;
    issues.push({ ...base, sourceId: id, kind: 'missing', reason: `hook "${hook}" wrote no outcome for this record (missing output)` });
  }
  return { hook, outcomes, features, featuresFile: path.join(args.outDir, 'features.jsonl'), counts, issues };
}
