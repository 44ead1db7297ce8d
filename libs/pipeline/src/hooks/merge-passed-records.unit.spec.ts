import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BatchRecords } from './batch-records.js';
import { HookCheckpoint } from './hook-checkpoint.js';
import { mergePassedRecords } from './merge-passed-records.js';

const jsonl = (...values: unknown[]) => values.map((v) => JSON.stringify(v)).join('\n') + '\n';

/** Which outcome each hook gave each record; absent: the hook wrote none for it. */
type Outcomes = Record<string, 'passed' | 'rejected' | 'errored'>;

describe(mergePassedRecords.name, () => {
  let dir: string;
  const ids = ['r1', 'r2', 'r3', 'r4', 'r5'];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'osa-merge-'));
    await writeFile(path.join(dir, 'batch.jsonl'), jsonl(...ids.map((id, n) => ({ id, metadata: { n }, files: n === 0 ? [{ name: 'f' }] : [] }))));
    await writeFile(path.join(dir, 'hook-input.jsonl'), jsonl(...ids.map((id) => ({ id, metadata: {}, size_hint_mb: 0 }))));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function hook(name: string, outcomes: Outcomes): Promise<{ name: string; checkpoint: HookCheckpoint }> {
    const records = await BatchRecords.read(path.join(dir, 'hook-input.jsonl'));
    const cp = path.join(dir, 'checkpoints', name);
    await mkdir(cp, { recursive: true });
    const lines = Object.entries(outcomes).map(([id, outcome]) =>
      outcome === 'passed'
        ? { id, outcome, features: [{ by: name, id }] }
        : outcome === 'rejected'
          ? { id, outcome, reason: `${name} says no` }
          : { id, outcome, error: `${name} broke`, retryable: false },
    );
    await writeFile(path.join(cp, 'part-a1-s0.jsonl'), jsonl(...lines));
    return { name, checkpoint: await HookCheckpoint.load(cp, records) };
  }

  const merge = async (hooks: Array<{ name: string; checkpoint: HookCheckpoint }>) => {
    const passedFile = path.join(dir, 'passed.jsonl');
    const result = await mergePassedRecords(path.join(dir, 'batch.jsonl'), passedFile, hooks);
    const text = await readFile(passedFile, 'utf8');
    return {
      result,
      passed: text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  };

  it("publishes a record only when every hook passed it, in batch order, with every hook's features", async () => {
    const { result, passed } = await merge([
      await hook('schema', { r1: 'passed', r2: 'passed', r3: 'rejected', r4: 'passed', r5: 'errored' }),
      await hook('geo', { r1: 'passed', r2: 'errored', r3: 'passed', r4: 'passed' }),
    ]);
    expect(result).toEqual({ passed: 2, rejected: 1, errored: 2 });
    expect(passed).toEqual([
      {
        source_id: 'r1',
        metadata: { n: 0 },
        files: [{ name: 'f' }],
        features: { schema: [{ by: 'schema', id: 'r1' }], geo: [{ by: 'geo', id: 'r1' }] },
      },
      { source_id: 'r4', metadata: { n: 3 }, files: [], features: { schema: [{ by: 'schema', id: 'r4' }], geo: [{ by: 'geo', id: 'r4' }] } },
    ]);
  });

  it('counts a record one hook rejected and another errored on as rejected, once', async () => {
    const { result, passed } = await merge([await hook('a', { r1: 'errored', r2: 'rejected' }), await hook('b', { r1: 'rejected', r2: 'errored' })]);
    // r3..r5 have no outcome from either hook: errored (missing output), never published.
    expect(result).toEqual({ passed: 0, rejected: 2, errored: 3 });
    expect(passed).toEqual([]);
  });

  it('publishes every record of a convention without hooks, with no features', async () => {
    const { result, passed } = await merge([]);
    expect(result).toEqual({ passed: 5, rejected: 0, errored: 0 });
    expect(passed.map((r) => [r.source_id, r.features])).toEqual(ids.map((id) => [id, {}]));
  });
});
