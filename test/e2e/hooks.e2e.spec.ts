import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fixture, PipelineHarness } from '../support/pipeline-harness.js';

/** Hooks meet real limits: OOM escalation, bisection, checkpoints and per-hook outcomes. */
describe('hooks (local runner)', () => {
  let harness: PipelineHarness;
  let scratch: string;

  beforeAll(async () => {
    harness = await PipelineHarness.start('hooks', { HOOK_MEMORY_CEILING: '512m', HOOK_OOM_RETRIES: '3', HOOK_ATTEMPTS: '10' });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'osa-hooks-'));
  });
  afterAll(() => harness.stop());

  const run = async (conventionId: string) => harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId })));
  const processed = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n');

  function hogConvention(id: string, sizes: Record<number, number>, logFile: string, extraHooks: object[] = []) {
    return {
      id,
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 10, page_size: 10, size_mb_by_index: sizes } },
      hooks: [
        { name: 'hog', command: ['node', fixture('size-hog.mjs')], config: { log_file: logFile }, limits: { memory: '128m', timeout_seconds: 60 } },
        ...extraHooks,
      ],
    };
  }

  it('re-runs only the records without an outcome, smallest first, with doubled memory until they fit', async () => {
    const log = path.join(scratch, 'escalate.log');
    await harness.applyConvention(hogConvention('escalate', { 3: 150, 7: 300 }, log));
    const done = await run('escalate');
    expect(done).toMatchObject({ status: 'completed', publishedCount: 10, batchesFailed: 0, erroredCount: 0 });
    const [batch] = await harness.reads.batchRows(done.id);
    // 128m: 0,1,2 then OOM on 3; 256m: the small ones, then 3, then OOM on 7; 512m: 7.
    expect(batch!.hookCounts.hog).toEqual({
      passed: 10,
      rejected: 0,
      errored: 0,
      missing: 0,
      invalid: 0,
      containerRuns: 3,
      oomKills: 2,
      memoryEscalations: 2,
      bisectionRuns: 0,
    });
    const order = await processed(log);
    expect(order).toEqual([
      'rec-000000',
      'rec-000001',
      'rec-000002',
      'rec-000004',
      'rec-000005',
      'rec-000006',
      'rec-000008',
      'rec-000009',
      'rec-000003',
      'rec-000007',
    ]);
    const record = await harness.database.db.execute<{ features: unknown }>(
      `SELECT f.features FROM records r JOIN record_features f ON f.record_id = r.id WHERE r.run_id = '${done.id}' AND r.source_id = 'rec-000007'` as never,
    );
    expect(record.rows[0]?.features).toEqual([{ held_mb: 300 }]);
  });

  it('isolates a record that exceeds the ceiling alone, errors only it, and publishes the rest', async () => {
    const log = path.join(scratch, 'poison.log');
    await harness.applyConvention(hogConvention('poison', { 2: 150, 5: 900 }, log));
    const done = await run('poison');
    expect(done).toMatchObject({ status: 'completed', publishedCount: 9, erroredCount: 1, batchesFailed: 0 });
    const [batch] = await harness.reads.batchRows(done.id);
    // 128m, 256m and 512m OOM; record 5 alone at 512m (the ceiling) is the one bisection run.
    expect(batch!.hookCounts.hog).toEqual({
      passed: 9,
      rejected: 0,
      errored: 1,
      missing: 0,
      invalid: 0,
      containerRuns: 4,
      oomKills: 4,
      memoryEscalations: 2,
      bisectionRuns: 1,
    });
    const issues = await harness.reads.listIssues(done.id, { limit: 100 }).then((p) => p.items);
    expect(issues.filter((i) => i.kind === 'errored')).toEqual([expect.objectContaining({ sourceId: 'rec-000005', reason: 'OOM at 512m, alone' })]);
    // Every other record was processed exactly once.
    const order = await processed(log);
    expect(new Set(order).size).toBe(order.length);
    expect(order).toHaveLength(9);
  });

  it('resumes from the checkpoint when a hook run is retried after a timeout, never redoing finished records', async () => {
    const log = path.join(scratch, 'resume.log');
    await harness.applyConvention({
      id: 'resume',
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 12, page_size: 12 } },
      hooks: [
        { name: 'slow', command: ['node', fixture('size-hog.mjs')], config: { log_file: log, per_record_ms: 250 }, limits: { timeout_seconds: 1 } },
      ],
    });
    const done = await run('resume');
    expect(done).toMatchObject({ status: 'completed', publishedCount: 12, batchesFailed: 0 });
    const order = await processed(log);
    // Only a record in flight when the timeout struck may have been processed twice.
    const repeats = order.length - new Set(order).size;
    expect(new Set(order).size).toBe(12);
    expect(repeats).toBeLessThanOrEqual(3);
  });

  it('publishes only records that pass every hook, with exact counts per hook', async () => {
    const log = path.join(scratch, 'two-hooks.log');
    await harness.applyConvention({
      ...hogConvention('two-hooks', {}, log, [{ name: 'flag', command: ['node', fixture('flag-hook.mjs')] }]),
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 10, page_size: 10, reject_every: 3 } },
    });
    const done = await run('two-hooks');
    // 0, 3, 6, 9 are flagged: the hog passes them, the flag hook rejects them.
    expect(done).toMatchObject({ status: 'completed', publishedCount: 6, rejectedCount: 4 });
    const [batch] = await harness.reads.batchRows(done.id);
    const oneRun = { containerRuns: 1, oomKills: 0, memoryEscalations: 0, bisectionRuns: 0 };
    expect(batch!.hookCounts).toEqual({
      hog: { passed: 10, rejected: 0, errored: 0, missing: 0, invalid: 0, ...oneRun },
      flag: { passed: 6, rejected: 4, errored: 0, missing: 0, invalid: 0, ...oneRun },
    });
  });

  it('stops isolating after its run budget and errors what is left, naming why', async () => {
    const budget = await PipelineHarness.start('hooks-budget', { HOOK_MEMORY_CEILING: '256m', HOOK_OOM_RETRIES: '1', HOOK_BISECT_MAX_RUNS: '2' });
    try {
      await budget.applyConvention(hogConvention('budget', { 1: 900, 2: 900, 3: 900, 4: 900 }, path.join(scratch, 'budget.log')));
      const done = await budget.waitForRun(await budget.runIdOf(await budget.startIngest({ conventionId: 'budget' })));
      // 128m and 256m both OOM on record 1; bisection at 256m runs [1,2] (OOM), then [1] alone
      // (OOM), and with its two runs spent errors 2, 3 and 4 without running them.
      expect(done).toMatchObject({ status: 'completed', publishedCount: 6, erroredCount: 4 });
      const errored = (await budget.reads.listIssues(done.id, { limit: 100 }).then((p) => p.items)).filter((i) => i.kind === 'errored');
      expect(Object.fromEntries(errored.map((i) => [i.sourceId, i.reason]))).toEqual({
        'rec-000001': 'OOM at 256m, alone',
        'rec-000002': 'OOM at 256m; isolation stopped after 2 runs',
        'rec-000003': 'OOM at 256m; isolation stopped after 2 runs',
        'rec-000004': 'OOM at 256m; isolation stopped after 2 runs',
      });
      const [batch] = await budget.reads.batchRows(done.id);
      expect(batch!.hookCounts.hog).toMatchObject({ containerRuns: 4, oomKills: 4, memoryEscalations: 1, bisectionRuns: 2 });
    } finally {
      await budget.stop();
    }
  });

  it('publishes every valid record of a convention with no hooks', async () => {
    await harness.applyConvention({
      id: 'no-hooks',
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 15, page_size: 10 } },
    });
    const done = await run('no-hooks');
    expect(done).toMatchObject({ status: 'completed', publishedCount: 15, batchesPublished: 2 });
  });
});
