import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { formatIssues, hookErrorLineSchema, hookFeatureLineSchema, hookRejectionLineSchema } from '#osa/domain';
import type { RecordIssue } from '#osa/persistence';
import { readJsonLines } from '#osa/storage';
import type { BatchRecords } from './batch-records.js';
import type { CheckpointPart, OutcomeLine } from './hook-checkpoint.js';

const OUTPUTS = [
  { file: 'features.jsonl', schema: hookFeatureLineSchema, outcome: 'passed' },
  { file: 'rejections.jsonl', schema: hookRejectionLineSchema, outcome: 'rejected' },
  { file: 'errors.jsonl', schema: hookErrorLineSchema, outcome: 'errored' },
] as const;

/** Issue kinds that count as invalid hook output. */
export const INVALID_OUTPUT_KINDS = new Set(['invalid_output', 'unknown_id', 'duplicate_outcome']);

/**
 * Reads one hook sub-run's output files into a checkpoint part. Each record of the sub-run gets
 * at most one outcome; a line that does not parse, names an id outside the batch, or gives a
 * record a second outcome is kept as an issue. A killed container's unfinished last line is
 * not an outcome (its record runs again).
 */
export async function absorbHookOutput(args: {
  outDir: string;
  /** Whether an id is one of the records this sub-run was given. */
  expected: (id: string) => boolean;
  records: BatchRecords;
  part: CheckpointPart;
  killed: boolean;
  issue: Omit<RecordIssue, 'kind' | 'reason'>;
}): Promise<void> {
  const { part } = args;
  for (const output of OUTPUTS) {
    const file = path.join(args.outDir, output.file);
    if (!(await stat(file).catch(() => undefined))) continue;
    for await (const line of readJsonLines(file, { containerOutput: true })) {
      if (args.killed && !line.terminated) continue;
      const where = `${output.file} line ${line.lineNumber}`;
      const result = line.problem ? { ok: false as const, error: line.problem.message } : safeParse(output.schema, line.text);
      if (!result.ok) {
        part.addIssue({ ...args.issue, lineNumber: line.lineNumber, kind: 'invalid_output', reason: `${where}: ${result.error}` });
        continue;
      }
      const id = (result.value as { id: string }).id;
      if (args.records.positionOf(id) === undefined) {
        part.addIssue({ ...args.issue, lineNumber: line.lineNumber, sourceId: id, kind: 'unknown_id', reason: `${where} names id "${id}", which is not in the batch` });
        continue;
      }
      if (!args.expected(id) || part.has(id)) {
        part.addIssue({ ...args.issue, lineNumber: line.lineNumber, sourceId: id, kind: 'duplicate_outcome', reason: `${where} gives "${id}" a second outcome; the first is kept` });
        continue;
      }
      const outcome = { id, outcome: output.outcome, ...withoutId(result.value as { id: string }) } as OutcomeLine;
      await part.add(outcome);
      if (outcome.outcome === 'rejected') part.addIssue({ ...args.issue, sourceId: id, kind: 'rejected', reason: outcome.reason! });
      if (outcome.outcome === 'errored') {
        part.addIssue({ ...args.issue, sourceId: id, kind: 'errored', reason: `${outcome.error}${outcome.retryable ? ' (retryable)' : ''}` });
      }
    }
  }
}

function safeParse<S extends z.ZodType>(schema: S, text: string): { ok: true; value: z.output<S> } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON: ${(err as Error).message}` };
  }
  const result = schema.safeParse(json);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: formatIssues(result.error.issues).join('; ') };
}

function withoutId<T extends { id: string }>(value: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = value;
  return rest;
}
