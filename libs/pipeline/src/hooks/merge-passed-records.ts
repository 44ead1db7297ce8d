import { open, type FileHandle } from 'node:fs/promises';
import { HookOutcome } from '#osa/domain';
import { JsonLinesWriter, readJsonLines } from '#osa/storage';
import type { HookOutcomes } from './collect-hook-outcomes.js';

export interface MergeResult {
  passed: number;
  /** Records at least one hook rejected. */
  rejected: number;
  /** Records no hook rejected but at least one errored on or left without outcome. */
  errored: number;
}

/**
 * Streams the normalized batch and writes the records that passed every hook, each with every
 * hook's features, to `passedFile`. Features are read back by offset, one record at a time,
 * so no stage holds a whole batch's features in memory.
 */
export async function mergePassedRecords(batchFile: string, passedFile: string, hooks: readonly HookOutcomes[]): Promise<MergeResult> {
  const handles = new Map<string, FileHandle>();
  const writer = await JsonLinesWriter.open(passedFile);
  const result: MergeResult = { passed: 0, rejected: 0, errored: 0 };
  try {
    for (const hook of hooks) if (hook.features.size > 0) handles.set(hook.hook, await open(hook.featuresFile, 'r'));
    for await (const line of readJsonLines(batchFile)) {
      const record = JSON.parse(line.text) as { id: string; metadata: unknown; files: unknown };
      const outcomes = hooks.map((h) => h.outcomes.get(record.id));
      if (outcomes.some((o) => o === HookOutcome.Rejected)) {
        result.rejected++;
        continue;
      }
      if (outcomes.some((o) => o !== HookOutcome.Passed)) {
        result.errored++;
        continue;
      }
      const features: Record<string, unknown> = {};
      for (const hook of hooks) {
        const at = hook.features.get(record.id)!;
        const buffer = Buffer.alloc(at.byteLength);
        await handles.get(hook.hook)!.read(buffer, 0, at.byteLength, at.offset);
        features[hook.hook] = (JSON.parse(buffer.toString('utf8')) as { features: unknown[] }).features;
      }
      await writer.write({ source_id: record.id, metadata: record.metadata, files: record.files, features });
      result.passed++;
    }
    await writer.close();
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
  return result;
}
