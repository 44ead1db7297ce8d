import { existsSync } from 'node:fs';
import { jest } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErrorKind } from '#osa/domain';
import { ExhaustionService, IngestBatchService } from '#osa/pipeline';
import { BatchLayout } from '#osa/storage';
import { countingConvention, fixture, PipelineHarness } from '../support/pipeline-harness.js';

/**
 * The failure taxonomy (docs/architecture.md) as the local runner produces it, and what must never
 * happen on a failure: a failure left unaccounted, a count off, a succeeded batch run again.
 */
describe('failure model (local runner)', () => {
  let harness: PipelineHarness;
  let scratch: string;

  beforeAll(async () => {
    harness = await PipelineHarness.start('failures', { INGESTER_ATTEMPTS: '3', HOOK_ATTEMPTS: '2' });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'osa-failures-'));
  });
  afterAll(() => harness.stop());

  const run = async (conventionId: string, payload: Record<string, unknown> = {}) =>
    harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId, ...payload })));
  const batches = (runId: string) => harness.reads.batchRows(runId);

  it('retries a transient ingester exit and completes with exact counts', async () => {
    const counter = path.join(scratch, 'transient-count');
    await harness.applyConvention(
      countingConvention('transient', { total: 40, page_size: 10, fail_batches: [2], fail_times: 2, fail_times_file: counter }),
    );
    const done = await run('transient');
    expect(done).toMatchObject({ status: 'completed', batchesIngested: 4, batchesPublished: 4, batchesFailed: 0, publishedCount: 40 });
  });

  it('fails the ingestion on a permanent exit code, still publishing the batches already sourced', async () => {
    const convention = countingConvention('permanent-exit', { total: 40, page_size: 10, fail_batches: [2], fail_exit_code: 3 });
    await harness.applyConvention({ ...convention, ingester: { ...convention.ingester, permanent_exit_codes: [3] } });
    const done = await run('permanent-exit');
    expect(done).toMatchObject({
      status: 'completed',
      ingestionFinished: true,
      batchesIngested: 3,
      batchesPublished: 2,
      batchesFailed: 1,
      publishedCount: 20,
      failureKind: ErrorKind.IngesterExit,
    });
    expect(done.failureReason).toContain('code 3, which the convention lists as permanent');
    const failed = (await batches(done.id)).find((b) => b.state === 'failed')!;
    expect(failed).toMatchObject({ batchIndex: 2, failureStage: 'ingester', failureKind: ErrorKind.IngesterExit });
    expect(failed.failureLogs).toContain('failing batch 2 on purpose');
  });

  it('accounts an ingester whose transient retries are exhausted', async () => {
    await harness.applyConvention(countingConvention('exhausted', { total: 40, page_size: 10, fail_batches: [1] }));
    const done = await run('exhausted');
    expect(done).toMatchObject({ status: 'completed', batchesIngested: 2, batchesPublished: 1, batchesFailed: 1, publishedCount: 10 });
    expect(done.failureReason).toBe('ingester exited with code 1');
  });

  it('fails the batch permanently when a hook exits non-zero, keeping its log lines', async () => {
    await harness.applyConvention(countingConvention('hook-exit', { total: 20, page_size: 10 }, [{ name: 'broken', config: { exit_code: 4 } }]));
    const done = await run('hook-exit');
    expect(done).toMatchObject({ status: 'completed', batchesIngested: 2, batchesFailed: 2, batchesPublished: 0, failureKind: ErrorKind.HookExit });
    const [first] = await batches(done.id);
    expect(first).toMatchObject({ state: 'failed', failureStage: 'hooks', failureReason: 'hook "broken" exited with code 4' });
    expect(first!.failureLogs).toContain('hook failing with exit code 4 on purpose');
  });

  it('retries a hook timeout as transient and accounts it once attempts are spent', async () => {
    const convention = countingConvention('hook-timeout', { total: 10, page_size: 10 }, [{ name: 'slow', config: { sleep_ms: 5000 } }]);
    convention.hooks[0]!.limits.timeout_seconds = 1;
    await harness.applyConvention(convention);
    const done = await run('hook-timeout');
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 1, failureKind: ErrorKind.Timeout });
    expect(done.failureReason).toContain('exceeded its timeout of 1s');
  });

  it('accounts a failure that happens before the container runs (a command that cannot start)', async () => {
    await harness.applyConvention({
      id: 'no-such-program',
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 5 } },
      hooks: [{ name: 'ghost', command: ['/nonexistent/hook-binary'] }],
    });
    const done = await run('no-such-program');
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 1, failureKind: ErrorKind.InvalidConvention });
    expect(done.failureReason).toContain('could not start "/nonexistent/hook-binary"');
  });

  it('counts every kind of bad container output with its reason, and the batch proceeds', async () => {
    await harness.applyConvention({
      id: 'bad-output',
      ingester: { command: ['node', fixture('bad-output-ingester.mjs')] },
      hooks: [{ name: 'sloppy', command: ['node', fixture('bad-output-hook.mjs')] }],
    });
    const done = await run('bad-output');
    // good-1, good-2, ok-with-file, good-3 are valid; 6 lines are not. good-2 is both passed
    // and rejected (conflicting outcomes → errored, its second line unusable); good-3 gets none
    // (missing → errored).
    expect(done).toMatchObject({
      status: 'completed',
      recordsSourced: 4,
      invalidCount: 6,
      batchesPublished: 1,
      publishedCount: 2,
      rejectedCount: 0,
      erroredCount: 2,
    });
    const [batch] = await batches(done.id);
    expect(batch!.hookCounts.sloppy).toEqual({
      passed: 2,
      rejected: 0,
      errored: 1,
      missing: 1,
      invalid: 3,
      containerRuns: 1,
      oomKills: 0,
      memoryEscalations: 0,
      bisectionRuns: 0,
    });
    const kinds = await harness.reads.issueCountsByKind(done.id);
    expect(kinds).toEqual({
      malformed_line: 1,
      missing_source_id: 1,
      duplicate_source_id: 1,
      invalid_file: 3,
      invalid_session: 1,
      invalid_output: 1,
      unknown_id: 1,
      conflicting_outcomes: 1,
      duplicate_outcome: 1,
      missing: 1,
    });
    const issues = await harness.reads.listIssues(done.id, { limit: 100 }).then((p) => p.items);
    expect(issues.find((i) => i.sourceId === 'escapes')?.reason).toContain('link that leaves');
    expect(issues.find((i) => i.sourceId === 'abs-path')?.reason).toContain('absolute path');
  });

  it('lets the reconciler account a final failure whose in-process accounting threw', async () => {
    const exhaustion = harness.get('hooks', ExhaustionService);
    const spy = jest.spyOn(exhaustion, 'accountFinalFailure').mockRejectedValue(new Error('database went away'));
    try {
      await harness.applyConvention(
        countingConvention('lost-accounting', { total: 10, page_size: 10 }, [{ name: 'broken', config: { exit_code: 9 } }]),
      );
      const done = await run('lost-accounting');
      expect(spy).toHaveBeenCalled();
      expect(done).toMatchObject({ status: 'completed', batchesFailed: 1, failureKind: ErrorKind.HookExit });
    } finally {
      spy.mockRestore();
    }
  });

  it('never re-runs the ingester nor deletes the output of a batch that already succeeded when its job is repeated', async () => {
    await harness.applyConvention(countingConvention('repeat', { total: 10, page_size: 10 }));
    const done = await run('repeat');
    const service = harness.get('ingester', IngestBatchService);
    const again = await service.ingest({ data: { runId: done.id, batchIndex: 0 }, attempt: 99 });
    expect(again.outcome).toBe('run-ended');
    const [batch] = await batches(done.id);
    const committed = path.join(harness.config.dataDir, BatchLayout.batchFile(done.id, 0, batch!.ingesterAttempt!));
    expect(existsSync(committed)).toBe(true);
    expect(existsSync(path.join(harness.config.dataDir, BatchLayout.ingesterAttempt(done.id, 0, 99)))).toBe(false);
    expect(await harness.reads.findRun(done.id)).toMatchObject({ batchesIngested: 1, publishedCount: 10 });
  });
});
