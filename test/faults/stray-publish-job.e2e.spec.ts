import { JobProducer } from '#osa/pipeline';
import { QueueName } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { countingConvention, PipelineHarness } from '../support/pipeline-harness.js';

/**
 * A publish job added under the batch's own id before the hooks have finished with the batch
 * takes that id: the hooks stage's own add is then a no-op. The early job must fail alone, and
 * the reconciler must replace it once the batch is hooked, so the run still completes.
 */
describe('a publish job added before its batch is hooked', () => {
  let harness: PipelineHarness;

  beforeAll(async () => {
    harness = await PipelineHarness.start('stray-publish', {}, ['ingester']);
  }, 60_000);
  afterAll(() => harness?.stop());

  it('fails alone, and the batch is published once the hooks are done', async () => {
    await harness.applyConvention(countingConvention('stray-publish', { total: 10, page_size: 10, reject_every: 5 }));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'stray-publish' }));
    await waitFor('batch 0 to be sourced', async () => (await harness.reads.findBatch(runId, 0))?.state === 'sourced');

    const publish = harness.get('ingester', JobProducer).queues[QueueName.HooksCompleted];
    const early = await publish.add(
      'hooks-completed',
      { runId, batchIndex: 0 },
      { jobId: `hooked-${runId}-0`, attempts: 3, removeOnFail: false, removeOnComplete: false },
    );
    await harness.startStage('publisher');
    const settled = await waitFor('the early publish job to finish', async () => {
      const state = await publish.getJobState(early.id!);
      return state === 'failed' || state === 'completed' ? state : undefined;
    });
    expect(settled).toBe('failed');
    expect((await publish.getJob(early.id!))!.failedReason).toMatch(/^\[stray_job\] stray job: batch 0 of run .* is still waiting for its hooks/);
    expect(await harness.reads.findBatch(runId, 0)).toMatchObject({ state: 'sourced' });

    await harness.startStage('hooks');
    const run = await harness.waitForRun(runId, 60_000);
    expect(run).toMatchObject({ status: 'completed', batchesPublished: 1, batchesFailed: 0, publishedCount: 8, rejectedCount: 2 });
  }, 120_000);
});
