import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MAX_LISTED_ISSUES, type RecordIssue } from '#osa/domain';
import { absorbHookOutput } from './absorb-hook-output.js';
import { BatchRecords } from './batch-records.js';
import { HookCheckpoint } from './hook-checkpoint.js';

const place = { runId: '00000000-0000-0000-0000-000000000000', batchIndex: 0, stage: 'hooks', hook: 'h' };
const jsonl = (...values: unknown[]) => values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n') + '\n';

describe(HookCheckpoint.name, () => {
  let dir: string;
  let records: BatchRecords;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'osa-checkpoint-'));
    await writeFile(path.join(dir, 'records.jsonl'), jsonl(...['a', 'b', 'c', 'd'].map((id) => ({ id, metadata: {}, size_hint_mb: 0 }))));
    records = await BatchRecords.read(path.join(dir, 'records.jsonl'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const all = async (checkpoint: HookCheckpoint) => {
    const issues: RecordIssue[] = [];
    for await (const issue of checkpoint.issues(place)) issues.push(issue);
    return issues;
  };

  describe('load', () => {
    it('reads parts written before outcome issues were derived, counting each issue once', async () => {
      const cp = path.join(dir, 'cp');
      await HookCheckpoint.load(cp, records);
      await writeFile(
        path.join(cp, 'part-a1-s0.jsonl'),
        jsonl(
          { id: 'a', outcome: 'passed', features: [1] },
          { id: 'b', outcome: 'rejected', reason: 'no' },
          { id: 'c', outcome: 'errored', error: 'OOM at 8g, alone', retryable: false },
        ),
      );
      // The old issues file also listed the rejection and the error.
      await writeFile(
        path.join(cp, 'part-a1-s0.issues.jsonl'),
        jsonl(
          { ...place, lineNumber: 7, kind: 'invalid_output', reason: 'features.jsonl line 7: not valid JSON' },
          { ...place, sourceId: 'b', kind: 'rejected', reason: 'no' },
          { ...place, sourceId: 'c', kind: 'errored', reason: 'OOM at 8g, alone' },
        ),
      );
      const checkpoint = await HookCheckpoint.load(cp, records);
      expect(checkpoint.counts()).toEqual({ passed: 1, rejected: 1, errored: 1, invalid: 1 });
      expect((await all(checkpoint)).map((i) => [i.kind, i.sourceId, i.reason])).toEqual([
        ['invalid_output', undefined, 'features.jsonl line 7: not valid JSON'],
        ['rejected', 'b', 'no'],
        ['errored', 'c', 'OOM at 8g, alone'],
      ]);
    });

    it('takes the last line for a record within a part and the first part across parts', async () => {
      const cp = path.join(dir, 'cp');
      await HookCheckpoint.load(cp, records);
      await writeFile(
        path.join(cp, 'part-a1-s0.jsonl'),
        jsonl({ id: 'a', outcome: 'passed', features: [] }, { id: 'a', outcome: 'errored', error: 'conflict', kind: 'conflicting_outcomes' }),
      );
      await writeFile(
        path.join(cp, 'part-a1-s1.jsonl'),
        jsonl({ id: 'a', outcome: 'passed', features: [] }, { id: 'b', outcome: 'passed', features: [] }),
      );
      const checkpoint = await HookCheckpoint.load(cp, records);
      expect(checkpoint.get('a')?.outcome).toBe('errored');
      expect(checkpoint.counts()).toEqual({ passed: 1, rejected: 0, errored: 1, invalid: 0 });
      expect(await all(checkpoint)).toEqual([{ ...place, sourceId: 'a', kind: 'conflicting_outcomes', reason: 'conflict' }]);
    });
  });

  describe('CheckpointPart', () => {
    it('keeps the first issues on disk and the count of the rest, so a reload counts them all', async () => {
      const cp = path.join(dir, 'cp');
      const part = await (await HookCheckpoint.load(cp, records)).openPart('a1-s0');
      for (let line = 1; line <= MAX_LISTED_ISSUES + 3; line++)
        await part.addIssue(() => ({ ...place, lineNumber: line, kind: 'invalid_output', reason: 'garbage' }));
      await part.commit();
      const lines = (await readFile(path.join(cp, 'part-a1-s0.issues.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(MAX_LISTED_ISSUES + 1);
      const reloaded = await HookCheckpoint.load(cp, records);
      expect(reloaded.counts().invalid).toBe(MAX_LISTED_ISSUES + 3);
      expect(await all(reloaded)).toHaveLength(MAX_LISTED_ISSUES);
    });
  });

  describe(absorbHookOutput.name, () => {
    const absorb = async (outputs: Record<string, string>, killed = false) => {
      const out = path.join(dir, 'out');
      await rm(out, { recursive: true, force: true });
      await mkdir(out);
      for (const [file, text] of Object.entries(outputs)) await writeFile(path.join(out, file), text);
      const checkpoint = await HookCheckpoint.load(path.join(dir, `cp-${Math.random()}`), records);
      const part = await checkpoint.openPart('a1-s0');
      await absorbHookOutput({ outDir: out, expected: () => true, records, part, killed, issue: place });
      await part.commit();
      return checkpoint;
    };

    it('errors a record given two outcomes, whichever file comes first, with the files and lines', async () => {
      const checkpoint = await absorb({
        'features.jsonl': jsonl({ id: 'a', features: [] }, { id: 'b', features: [] }),
        'errors.jsonl': jsonl({ id: 'a', error: 'x' }),
        'rejections.jsonl': jsonl({ id: 'c', reason: 'r' }, { id: 'c', reason: 'r' }),
      });
      // Five lines: three records' outcomes, and the two lines after a record's first are unusable.
      expect(checkpoint.counts()).toEqual({ passed: 1, rejected: 0, errored: 2, invalid: 2 });
      expect((await all(checkpoint)).map((i) => [i.sourceId, i.kind, i.reason])).toEqual([
        ['c', 'duplicate_outcome', 'rejections.jsonl line 2 is outcome line 2 for "c"; a record may have one, so it is errored as conflicting'],
        ['a', 'duplicate_outcome', 'errors.jsonl line 1 is outcome line 2 for "a"; a record may have one, so it is errored as conflicting'],
        [
          'a',
          'conflicting_outcomes',
          'conflicting outcomes: the hook wrote 2 outcome lines (features.jsonl line 1, errors.jsonl line 1) for this record; it must write exactly one',
        ],
        [
          'c',
          'conflicting_outcomes',
          'conflicting outcomes: the hook wrote 2 outcome lines (rejections.jsonl lines 1 and 2) for this record; it must write exactly one',
        ],
      ]);
    });

    it("does not count a killed container's unfinished last line as a second outcome", async () => {
      const outputs = { 'features.jsonl': jsonl({ id: 'a', features: [] }), 'rejections.jsonl': JSON.stringify({ id: 'a', reason: 'cut' }) };
      expect((await absorb(outputs, true)).get('a')?.outcome).toBe('passed');
      expect((await absorb(outputs, false)).get('a')?.outcome).toBe('errored');
    });
  });
});
