import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { formatIssues, hookErrorLineSchema, hookFeatureLineSchema, hookRejectionLineSchema, type RecordIssue } from '#osa/domain';
import { type ContainerOutputLimits, DEFAULT_CONTAINER_OUTPUT_LIMITS, readJsonLines } from '#osa/storage';
import type { BatchRecords } from './batch-records.js';
import type { CheckpointPart } from './hook-checkpoint.js';
import { OutcomeLineTally } from './outcome-line-tally.js';

const HOOK_OUTPUTS = [
  { file: 'features.jsonl', schema: hookFeatureLineSchema, outcome: 'passed' },
  { file: 'rejections.jsonl', schema: hookRejectionLineSchema, outcome: 'rejected' },
  { file: 'errors.jsonl', schema: hookErrorLineSchema, outcome: 'errored' },
] as const;

/** Kind of the errored outcome of a record that one sub-run gave more than one outcome line. */
const CONFLICTING_OUTCOMES = 'conflicting_outcomes';

/**
 * Reads one hook sub-run's output files into a checkpoint part. A line that does not parse or
 * names an id this sub-run was not given is kept as an issue (invalid output). A record with
 * exactly one outcome line gets that outcome; a record with more than one, in one file or across
 * files, identical or not, is errored (`conflicting_outcomes`, not retryable, the reason naming
 * every file and line), whatever order the files are read in: a record is published only when
 * its hook said one thing about it. A killed container's unfinished last line is not an outcome
 * (its record runs again).
 */
export async function absorbHookOutput(args: {
  outDir: string;
  /** Whether an id is one of the records this sub-run was given. */
  expected: (id: string) => boolean;
  records: BatchRecords;
  part: CheckpointPart;
  killed: boolean;
  issue: Omit<RecordIssue, 'kind' | 'reason'>;
  /** How much of the output is read. @defaultValue the configuration's defaults */
  limits?: ContainerOutputLimits;
}): Promise<void> {
  const { part, records, limits = DEFAULT_CONTAINER_OUTPUT_LIMITS } = args;
  // Per record, which lines gave it an outcome: typed arrays by position, not the lines.
  const tally = new OutcomeLineTally(records.size, HOOK_OUTPUTS.length);
  for (const [fileIndex, output] of HOOK_OUTPUTS.entries()) {
    const file = path.join(args.outDir, output.file);
    // lstat: a link (even a dangling one) is present, so the reader refuses it with a reason.
    if (!(await lstat(file).catch(() => undefined))) continue;
    for await (const line of readJsonLines(file, { containerOutput: true, maxLineBytes: limits.maxLineBytes, maxFileBytes: limits.maxFileBytes })) {
      if (args.killed && !line.terminated) continue;
      const where = () => `${output.file} line ${line.lineNumber}`;
      // Past the part's listed issues a bad line builds no issue and writes nothing: it is only counted.
      const invalid = (kind: string, reason: () => string, sourceId?: string) =>
        part.addIssue(() => ({ ...args.issue, lineNumber: line.lineNumber, sourceId, kind, reason: reason() }));
      const result = line.problem ? { ok: false as const, error: line.problem.message } : safeParse(output.schema, line.text);
      if (!result.ok) {
        await invalid('invalid_output', () => `${where()}: ${result.error}`);
        continue;
      }
      const id = (result.value as { id: string }).id;
      const position = records.positionOf(id);
      if (position === undefined) {
        await invalid('unknown_id', () => `${where()} names id "${id}", which is not in the batch`, id);
        continue;
      }
      if (!args.expected(id)) {
        if (part.has(id))
          await invalid(
            'duplicate_outcome',
            () => `${where()} gives "${id}" an outcome, but an earlier run of the hook gave it one; that one is kept`,
            id,
          );
        else await invalid('unknown_id', () => `${where()} names id "${id}", which this run of the hook was not given`, id);
        continue;
      }
      // The first line is written at once; should a second follow, the record's outcome is
      // replaced below, so nothing waits in memory for the files to end. Every further line is
      // an unusable line of its own, so a record's lines are each accounted once.
      const nth = tally.add(position, fileIndex, line.lineNumber);
      if (nth === 1) await part.add({ id, outcome: output.outcome, ...withoutId(result.value as { id: string }) });
      else
        await invalid(
          'duplicate_outcome',
          () => `${where()} is outcome line ${nth} for "${id}"; a record may have one, so it is errored as conflicting`,
          id,
        );
    }
  }
  for (const position of tally.conflicted()) {
    const id = records.idAt(position);
    const lines = tally.describe(
      position,
      HOOK_OUTPUTS.map((o) => o.file),
    );
    await part.add({
      id,
      outcome: 'errored',
      kind: CONFLICTING_OUTCOMES,
      retryable: false,
      error: `conflicting outcomes: the hook wrote ${lines} for this record; it must write exactly one`,
    });
  }
}

function safeParse<S extends z.ZodType>(schema: S, text: string): { ok: true; value: z.output<S> } | { ok: false; error: string } {
  // Every outcome line is an object; garbage is refused without the cost of a parse error.
  if (text.trimStart()[0] !== '{') return { ok: false, error: 'not a JSON object' };
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
