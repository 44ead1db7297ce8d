// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { RunQueryService } from '../../apps/dashboard/src/api/run-query.service.js';
import { statusCommand } from '../../tools/cli/commands.js';
import { fixture, PipelineHarness } from '../support/pipeline-harness.js';

/** What a hook says about a batch is counted exactly, at any size, and a record is published only when its hook said one thing about it. */
describe('hook outcomes (local runner)', () => {
  let harness: PipelineHarness;

  beforeAll(async () => {
    // Two attempts: a step that fails for a bug fails the batch soon instead of retrying for minutes.
    harness = await PipelineHarness.start('hook_outcomes', { HOOK_ATTEMPTS: '2' });
  });
  afterAll(() => harness.stop());

  const run = async (conventionId: string, batchSize: number, timeoutMs?: number) =>
    harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId, batchSize })), timeoutMs);
  const convention = (id: string, total: number, config: Record<string, unknown>) => ({
    id,
    ingester: {
      command: ['node', fixture('counting-ingester.mjs')],
      config: { total, page_size: total },
      limits: { timeout_seconds: 300, memory: '2g' },
    },
    hooks: [{ name: 'hostile', command: ['node', fixture('hostile-hook.mjs')], config, limits: { timeout_seconds: 300, memory: '2g' } }],
  });
  const hookIssues = async (runId: string) =>
    (
      await harness.database.pool.query<{ kind: string; n: number; reason: string }>(
        `SELECT kind, count(*)::int AS n, min(reason) AS reason FROM record_issues WHERE run_id = $1 AND stage = 'hooks' GROUP BY kind ORDER BY kind`,
        [runId],
      )
    ).rows;

  it('counts a hook that rejects 200,000 records of one batch exactly, and stores a capped list with a summary line', async () => {
    await harness.applyConvention(convention('mass-reject', 200_000, { reject_all: true }));
    const done = await run('mass-reject', 200_000, 240_000);
    expect(done).toMatchObject({
      status: 'completed',
      batchesFailed: 0,
      recordsSourced: 200_000,
      rejectedCount: 200_000,
      publishedCount: 0,
      erroredCount: 0,
    });
    const [batch] = await harness.reads.batchRows(done.id);
    expect(batch!.hookCounts.hostile).toEqual({
      passed: 0,
      rejected: 200_000,
      errored: 0,
      missing: 0,
      invalid: 0,
      containerRuns: 1,
      oomKills: 0,
      memoryEscalations: 0,
      bisectionRuns: 0,
    });
    expect(await hookIssues(done.id)).toEqual([
      { kind: 'issues_truncated', n: 1, reason: '195000 more issues of hook "hostile" were counted but not listed' },
      { kind: 'rejected', n: 5000, reason: expect.stringMatching(/^rec-\d+ is not wanted$/) },
    ]);
    // The run card shows what is not listed, in the API and the CLI.
    const card = await new RunQueryService(harness.reads).card(done.id);
    expect(card).toMatchObject({ issuesNotListed: 195_000, counters: { rejected: 200_000 } });
    const status = await statusCommand(harness.database.db, done.id);
    expect(status).toMatchObject({ issuesNotListed: 195_000, text: expect.stringContaining('issues     195000 counted but not listed') });
  }, 300_000);

  it('counts 2,000,000 garbage lines from a hook as invalid output and publishes the batch', async () => {
    await harness.applyConvention(convention('garbage', 10, { pass_all: true, garbage_lines: 2_000_000 }));
    const done = await run('garbage', 10, 240_000);
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 0, publishedCount: 10, erroredCount: 0 });
    const [batch] = await harness.reads.batchRows(done.id);
    expect(batch!.hookCounts.hostile).toEqual({
      passed: 10,
      rejected: 0,
      errored: 0,
      missing: 0,
      invalid: 2_000_000,
      containerRuns: 1,
      oomKills: 0,
      memoryEscalations: 0,
      bisectionRuns: 0,
    });
    expect(await hookIssues(done.id)).toEqual([
      { kind: 'invalid_output', n: 5000, reason: expect.stringContaining('features.jsonl line') },
      { kind: 'issues_truncated', n: 1, reason: '1995000 more issues of hook "hostile" were counted but not listed' },
    ]);
    expect(await harness.reads.countUnlistedIssues(done.id)).toBe(1_995_000);
  }, 300_000);

  it('errors every record one hook run gave more than one outcome line, whatever the files, and publishes none of them', async () => {
    const f = (id: string, n = 1) => ({ id, features: [n] });
    const r = (id: string) => ({ id, reason: 'no' });
    const e = (id: string) => ({ id, error: 'broken', retryable: true });
    await harness.applyConvention(
      convention('conflicts', 7, {
        outputs: {
          'features.jsonl': [f('rec-000000'), f('rec-000001'), f('rec-000003'), f('rec-000003'), f('rec-000004', 2), f('rec-000006')],
          'rejections.jsonl': [r('rec-000001'), r('rec-000002'), r('rec-000005')],
          'errors.jsonl': [e('rec-000002'), e('rec-000004'), e('rec-000006'), e('rec-000006')],
        },
      }),
    );
    const done = await run('conflicts', 7);
    // Only rec-000000 (one features line) and rec-000005 (one rejection) have a single outcome.
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 0, publishedCount: 1, rejectedCount: 1, erroredCount: 5 });
    const [batch] = await harness.reads.batchRows(done.id);
    // 13 lines: one outcome for each of the 7 records, and the 6 lines after a record's first are unusable.
    expect(batch!.hookCounts.hostile).toEqual({
      passed: 1,
      rejected: 1,
      errored: 5,
      missing: 0,
      invalid: 6,
      containerRuns: 1,
      oomKills: 0,
      memoryEscalations: 0,
      bisectionRuns: 0,
    });
    const published = await harness.database.pool.query<{ source_id: string }>('SELECT source_id FROM records WHERE run_id = $1', [done.id]);
    expect(published.rows.map((row) => row.source_id)).toEqual(['rec-000000']);

    const issues = await harness.reads.listIssues(done.id, { limit: 100 }).then((p) => p.items);
    const duplicates = issues.filter((i) => i.kind === 'duplicate_outcome');
    expect(duplicates.map((i) => i.sourceId).sort()).toEqual(['rec-000001', 'rec-000002', 'rec-000003', 'rec-000004', 'rec-000006', 'rec-000006']);
    expect(duplicates.find((i) => i.sourceId === 'rec-000001')?.reason).toBe(
      'rejections.jsonl line 1 is outcome line 2 for "rec-000001"; a record may have one, so it is errored as conflicting',
    );
    const reasons = Object.fromEntries(
      issues.filter((i) => i.kind !== 'duplicate_outcome').map((i) => [String(i.sourceId), `${i.kind}: ${i.reason}`]),
    );
    const conflict = (lines: string) =>
      `conflicting_outcomes: conflicting outcomes: the hook wrote ${lines} for this record; it must write exactly one`;
    expect(reasons).toEqual({
      'rec-000001': conflict('2 outcome lines (features.jsonl line 2, rejections.jsonl line 1)'),
      'rec-000002': conflict('2 outcome lines (rejections.jsonl line 2, errors.jsonl line 1)'),
      'rec-000003': conflict('2 outcome lines (features.jsonl lines 3 and 4)'),
      'rec-000004': conflict('2 outcome lines (features.jsonl line 5, errors.jsonl line 2)'),
      'rec-000005': 'rejected: no',
      'rec-000006': conflict('3 outcome lines (features.jsonl line 6, errors.jsonl lines 3 and 4)'),
    });
  });
});
