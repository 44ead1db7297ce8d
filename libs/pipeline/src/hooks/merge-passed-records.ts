import { JsonLinesWriter, LineReader, readJsonLines } from '#osa/storage';
import type { HookCheckpoint, OutcomeLine } from './hook-checkpoint.js';

export interface MergeResult {
  passed: number;
  /** Records at least one hook rejected. */
  rejected: number;
  /** Records no hook rejected but at least one errored on or left without outcome. */
  errored: number;
}

/**
 * Streams the normalized batch and writes the records that passed every hook, each with every
 * hook's features, to `passedFile`. Features are read back from the checkpoints by offset, one
 * record at a time, so no stage holds a whole batch's features in memory.
 */
export async function mergePassedRecords(
  batchFile: string,
  passedFile: string,
  hooks: ReadonlyArray<{ name: string; checkpoint: HookCheckpoint }>,
): Promise<MergeResult> {
  const reader = new LineReader();
  const writer = await JsonLinesWriter.open(passedFile);
  const result: MergeResult = { passed: 0, rejected: 0, errored: 0 };
  try {
    for await (const line of readJsonLines(batchFile)) {
      const record = JSON.parse(line.text) as { id: string; metadata: unknown; files: unknown };
      const entries = hooks.map((h) => h.checkpoint.get(record.id));
      if (entries.some((e) => e?.outcome === 'rejected')) {
        result.rejected++;
        continue;
      }
      if (entries.some((e) => e?.outcome !== 'passed')) {
        result.errored++;
        continue;
      }
      const features: Record<string, unknown> = {};
      for (const [i, hook] of hooks.entries()) {
        const at = entries[i]!;
        features[hook.name] = (JSON.parse(await reader.read(at.file, at.offset, at.byteLength)) as OutcomeLine).features ?? [];
      }
      await writer.write({ source_id: record.id, metadata: record.metadata, files: record.files, features });
      result.passed++;
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await reader.close();
  }
  return result;
}
