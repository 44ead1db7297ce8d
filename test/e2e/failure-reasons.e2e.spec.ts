import { jest } from '@jest/globals';
import { ErrorKind } from '#osa/domain';
import { ExhaustionService } from '#osa/pipeline';
import { countingConvention, PipelineHarness, REPO_ROOT } from '../support/pipeline-harness.js';

/** What a failed batch keeps: the cause and the container's own lines, never the service's stack. */
describe('stored failure reasons and log tails', () => {
  let harness: PipelineHarness;

  beforeAll(async () => {
    harness = await PipelineHarness.start('failure_reasons', { HOOK_ATTEMPTS: '1' });
  });
  afterAll(() => harness.stop());

  const run = async (conventionId: string) => harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId })));
  const failedBatch = async (runId: string) => (await harness.reads.batchRows(runId)).find((b) => b.state === 'failed')!;
  const serviceInternals = (lines: readonly string[]) =>
    lines.filter((line) => /^\s+at /m.test(line) || line.includes(REPO_ROOT) || line.includes('node_modules'));

  it("keeps the container's own last log lines of a failed hook", async () => {
    await harness.applyConvention(countingConvention('hook-lines', { total: 10, page_size: 10 }, [{ name: 'broken', config: { exit_code: 9 } }]));
    const done = await run('hook-lines');
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 1, failureKind: ErrorKind.HookExit });
    const batch = await failedBatch(done.id);
    expect(batch.failureLogs).toContain('hook failing with exit code 9 on purpose');
    expect(serviceInternals(batch.failureLogs ?? [])).toEqual([]);
  });

  it('stores no stack trace nor host path when the reconciler accounts a failure whose in-process accounting was lost', async () => {
    const exhaustion = harness.get('hooks', ExhaustionService);
    const spy = jest.spyOn(exhaustion, 'accountFinalFailure').mockRejectedValue(new Error('database went away'));
    try {
      await harness.applyConvention(
        countingConvention('reconciled-lines', { total: 10, page_size: 10 }, [{ name: 'broken', config: { exit_code: 9 } }]),
      );
      const done = await run('reconciled-lines');
      expect(spy).toHaveBeenCalled();
      expect(done).toMatchObject({ status: 'completed', batchesFailed: 1, failureKind: ErrorKind.HookExit });
      const batch = await failedBatch(done.id);
      expect(batch.failureReason).toContain('exited with code 9');
      expect(serviceInternals(batch.failureLogs ?? [])).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
