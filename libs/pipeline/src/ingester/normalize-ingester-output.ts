import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatIssues, type HookInputRecord, ingestedRecordSchema } from '#osa/domain';
import type { RecordIssue } from '#osa/persistence';
import { checkFileRefs, JsonLinesWriter, readJsonLines } from '#osa/storage';

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
}

export interface NormalizedBatch {
  recordCount: number;
  invalidCount: number;
  issues: RecordIssue[];
  /** The session the ingester wrote, or undefined when it wrote none (or an unreadable one). */
  session: unknown;
}

/** More detailed issues than this per batch are summarized in one line. */
const MAX_ISSUES = 5000;

/**
 * Reads the ingester's records.jsonl line by line, keeps the valid records (up to the limit)
 * and writes the normalized batch and the hooks' input. Every line that is not kept is counted
 * with its reason: malformed JSON, no source id, a duplicate source id, a bad file reference.
 */
export async function normalizeIngesterOutput(input: NormalizeInput): Promise<NormalizedBatch> {
  const issues: RecordIssue[] = [];
  let invalidCount = 0;
  let suppressed = 0;
  const issue = (lineNumber: number, kind: string, reason: string, sourceId?: string) => {
    invalidCount++;
    if (issues.length >= MAX_ISSUES) {
      suppressed++;
      return;
    }
    issues.push({ runId: input.runId, batchIndex: input.batchIndex, stage: 'ingester', lineNumber, kind, reason, sourceId });
  };

  const recordsFile = path.join(input.outDir, 'records.jsonl');
  const batch = await JsonLinesWriter.open(input.batchFile);
  const hookInput = await JsonLinesWriter.open(input.hookInputFile);
  const seen = new Set<string>();
  try {
    if (await exists(recordsFile)) {
      for await (const line of readJsonLines(recordsFile)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line.text);
        } catch (err) {
          issue(line.lineNumber, 'malformed_line', `line ${line.lineNumber} is not valid JSON: ${(err as Error).message}`);
          continue;
        }
        const result = ingestedRecordSchema.safeParse(parsed);
        if (!result.success) {
          const sourceId = typeof (parsed as { source_id?: unknown })?.source_id === 'string' ? (parsed as { source_id: string }).source_id : undefined;
          const kind = sourceId === undefined ? 'missing_source_id' : 'invalid_record';
          issue(line.lineNumber, kind, `line ${line.lineNumber}: ${formatIssues(result.error.issues).join('; ')}`, sourceId);
          continue;
        }
        const record = result.data;
        if (seen.has(record.source_id)) {
          issue(line.lineNumber, 'duplicate_source_id', `source_id "${record.source_id}" appears more than once in the batch; the first is kept`, record.source_id);
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
        seen.add(record.source_id);
        const sizeHint = record.files.reduce((sum, f) => sum + (f.size_mb ?? 0), 0) + line.byteLength / 1024 ** 2;
        const files = record.files.map((f) => ({ ...f, storage_path: path.join(input.filesStoragePath, record.source_id, path.normalize(f.relative_path)) }));
        await batch.write({ id: record.source_id, metadata: record.metadata, files });
        await hookInput.write({ id: record.source_id, metadata: record.metadata, size_hint_mb: round(sizeHint) } satisfies HookInputRecord);
      }
    }
    await batch.close();
    await hookInput.close();
  } catch (err) {
    batch.abort();
    hookInput.abort();
    throw err;
  }
  if (suppressed > 0) {
    issues.push({ runId: input.runId, batchIndex: input.batchIndex, stage: 'ingester', kind: 'issues_truncated', reason: `${suppressed} more invalid lines were counted but not listed` });
  }

  const session = await readSession(path.join(input.outDir, 'session.json'));
  if (session.error) {
    issues.push({ runId: input.runId, batchIndex: input.batchIndex, stage: 'ingester', kind: 'invalid_session', reason: session.error });
  }
  return { recordCount: batch.count, invalidCount, issues, session: session.value };
}

async function readSession(file: string): Promise<{ value?: unknown; error?: string }> {
  if (!(await exists(file))) return {};
  try {
    return { value: JSON.parse(await readFile(file, 'utf8')) };
  } catch (err) {
    return { error: `session.json is unreadable, so ingestion stops after this batch: ${(err as Error).message}` };
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
