import { lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  CappedIssues,
  formatIssues,
  type HookInputRecord,
  ingestedRecordSchema,
  isStorableText,
  isUnstorable,
  jsonValueProblems,
  MAX_OUTPUT_DEPTH,
  type RecordIssue,
  UNSTORABLE_VALUE,
} from '#osa/domain';
import {
  checkFileRefs,
  type ContainerOutputLimits,
  DEFAULT_CONTAINER_OUTPUT_LIMITS,
  JsonLinesWriter,
  type LineProblem,
  OutputFileRefusedError,
  readJsonLines,
  readOutputFile,
} from '#osa/storage';

export interface NormalizeInput {
  runId: string;
  batchIndex: number;
  /** Absolute paths of the container's output and files directories. */
  outDir: string;
  filesDir: string;
  /** The same files directory relative to DATA_DIR: where published records say their files are. */
  filesStoragePath: string;
  /** Absolute paths to write the normalized batch and the hooks' input to. */
  batchFile: string;
  hookInputFile: string;
  /** Records this batch may take (what remains of the run's limit and the batch size). */
  limit: number;
  /** How much of the output is read. @defaultValue the configuration's defaults */
  outputLimits?: ContainerOutputLimits;
}

export interface NormalizedBatch {
  recordCount: number;
  invalidCount: number;
  issues: RecordIssue[];
  /** The session the ingester wrote, or undefined when it wrote none (or an unreadable one). */
  session: unknown;
}

/** Issue kinds of lines the reader refused before parsing them. */
const PROBLEM_KINDS: Record<LineProblem['kind'], string> = {
  file_refused: 'refused_output_file',
  line_too_long: 'oversized_record',
  nul_byte: 'malformed_line',
};

/**
 * Reads the ingester's records.jsonl line by line, keeps the valid records (up to the limit)
 * and writes the normalized batch and the hooks' input. Every line that is not kept is counted
 * with its reason: malformed JSON, an oversized line, no source id, a value the archive cannot
 * store, a duplicate source id, a bad file reference. The output is read as hostile (see
 * `readJsonLines` and `openOutputFile`); one bad line never fails the batch.
 */
export async function normalizeIngesterOutput(input: NormalizeInput): Promise<NormalizedBatch> {
  const limits = input.outputLimits ?? DEFAULT_CONTAINER_OUTPUT_LIMITS;
  const where = { runId: input.runId, batchIndex: input.batchIndex, stage: 'ingester' };
  // Every invalid line is counted; only the first ones are listed (see CappedIssues).
  const listed = new CappedIssues();
  let invalidCount = 0;
  const issue = (lineNumber: number, kind: string, reason: string, sourceId?: string) => {
    invalidCount++;
    listed.add({ ...where, lineNumber: lineNumber || undefined, kind, reason, sourceId });
  };

  const recordsFile = path.join(input.outDir, 'records.jsonl');
  // lstat: a link named records.jsonl is there (and refused), even when it leads nowhere.
  const wroteRecords = await lstat(recordsFile).then(
    () => true,
    () => false,
  );
  const batch = await JsonLinesWriter.open(input.batchFile);
  const hookInput = await JsonLinesWriter.open(input.hookInputFile);
  const seen = new Set<string>();
  try {
    for await (const line of wroteRecords
      ? readJsonLines(recordsFile, { containerOutput: true, maxLineBytes: limits.maxLineBytes, maxFileBytes: limits.maxFileBytes })
      : []) {
      if (line.problem) {
        issue(line.lineNumber, PROBLEM_KINDS[line.problem.kind], line.problem.message);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(line.text);
      } catch (err) {
        issue(line.lineNumber, 'malformed_line', `line ${line.lineNumber} is not valid JSON: ${(err as Error).message}`);
        continue;
      }
      const result = ingestedRecordSchema.safeParse(parsed);
      if (!result.success) {
        const rawId = (parsed as { source_id?: unknown } | null)?.source_id;
        // The id is kept with the issue only when it can be stored; the reason says what is wrong with it.
        const sourceId = typeof rawId === 'string' && rawId.length <= 512 && isStorableText(rawId) ? rawId : undefined;
        const kind = isUnstorable(result.error.issues) ? UNSTORABLE_VALUE : typeof rawId === 'string' ? 'invalid_record' : 'missing_source_id';
        issue(line.lineNumber, kind, `line ${line.lineNumber}: ${formatIssues(result.error.issues).join('; ')}`, sourceId);
        continue;
      }
      const record = result.data;
      if (seen.has(record.source_id)) {
        issue(
          line.lineNumber,
          'duplicate_source_id',
          `source_id "${record.source_id}" appears more than once in the batch; the first is kept`,
          record.source_id,
        );
        continue;
      }
      if (batch.count >= input.limit) {
        issue(line.lineNumber, 'beyond_limit', `the ingester wrote more than OSA_LIMIT=${input.limit} records`, record.source_id);
        continue;
      }
      const badFile = await checkFileRefs(input.filesDir, record.source_id, record.files);
      if (badFile) {
        issue(line.lineNumber, 'invalid_file', badFile, record.source_id);
        continue;
      }
      const sizeHint = record.files.reduce((sum, f) => sum + (f.size_mb ?? 0), 0) + line.byteLength / 1024 ** 2;
      const files = record.files.map((f) => ({
        ...f,
        storage_path: path.join(input.filesStoragePath, record.source_id, path.normalize(f.relative_path)),
      }));
      const batchLine = JSON.stringify({ id: record.source_id, metadata: record.metadata, files });
      const hookLine = JSON.stringify({ id: record.source_id, metadata: record.metadata, size_hint_mb: round(sizeHint) } satisfies HookInputRecord);
      // Written out, a record can be longer than its line (numbers such as 1e20 are spelled in
      // full); the stages after this one read lines of at most the same limit.
      const stored = Math.max(Buffer.byteLength(batchLine), Buffer.byteLength(hookLine));
      if (stored > limits.maxLineBytes) {
        issue(
          line.lineNumber,
          'oversized_record',
          `line ${line.lineNumber}: the record is ${stored} bytes as stored, over the ${limits.maxLineBytes}-byte limit for one record`,
          record.source_id,
        );
        continue;
      }
      seen.add(record.source_id);
      await batch.writeLine(batchLine);
      await hookInput.writeLine(hookLine);
    }
    await batch.close();
    await hookInput.close();
  } catch (err) {
    await Promise.all([batch.abort(), hookInput.abort()]);
    throw err;
  }
  const issues = listed.toRecords(where, 'invalid lines');
  // Asked for records (a batch with nothing left to take does not run the ingester at all).
  if (!wroteRecords && input.limit > 0) {
    issues.push({
      ...where,
      kind: 'no_records_file',
      reason: 'the ingester exited successfully without writing records.jsonl; the batch has no records, so ingestion stops after it',
    });
  }

  const session = await readSession(path.join(input.outDir, 'session.json'), limits.maxSessionBytes);
  if (session.error) issues.push({ ...where, kind: 'invalid_session', reason: `${session.error}, so ingestion stops after this batch` });
  const filesDirProblem = await keepOwnFilesDirectory(input.filesDir);
  if (filesDirProblem) issues.push({ ...where, kind: PROBLEM_KINDS.file_refused, reason: filesDirProblem });
  return { recordCount: batch.count, invalidCount, issues, session: session.value };
}

/**
 * The session the ingester wrote, read as hostile output: bounded, no links, and only when the
 * archive can store it (it is kept in Postgres and handed to the next batch's ingester).
 */
async function readSession(file: string, maxBytes: number): Promise<{ value?: unknown; error?: string }> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readOutputFile(file, maxBytes);
  } catch (err) {
    if (err instanceof OutputFileRefusedError) return { error: `${err.message}; it was not read` };
    throw err;
  }
  if (bytes === undefined) return {};
  // A raw NUL is never JSON, and the parser would quote it in its message, which could not be stored.
  if (bytes.includes(0)) return { error: 'session.json contains a NUL byte, which JSON does not allow' };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return { error: `session.json is unreadable: ${(err as Error).message}` };
  }
  const [problem] = jsonValueProblems(value, MAX_OUTPUT_DEPTH);
  if (problem) return { error: `session.json cannot be stored: ${problem.path.map(String).join('.').slice(0, 200) || '(root)'}: ${problem.message}` };
  return { value };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/**
 * Every hook is given the ingester's files directory as its own $OSA_FILES, so it must be a
 * directory of the batch's own. One the ingester replaced with a link (to the host, or dangling)
 * or a file is removed — the link itself, never what it points at — and made anew, empty; the
 * records that named files in it were refused already (file references must resolve inside it).
 */
async function keepOwnFilesDirectory(dir: string): Promise<string | undefined> {
  const info = await lstat(dir).catch(() => undefined);
  if (info?.isDirectory()) return undefined;
  if (info) await rm(dir, { force: true });
  await mkdir(dir, { recursive: true });
  if (!info) return undefined;
  const what = info.isSymbolicLink() ? 'a symbolic link' : 'not a directory';
  return `the files directory ($OSA_FILES) is ${what}; it was replaced by an empty directory before the hooks ran`;
}
