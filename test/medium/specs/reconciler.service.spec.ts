import { ErrorKind } from '#osa/domain';
import { JobId, QueueName } from '#osa/queues';
import { pagedIngester } from '../support/fake-container-runner.js';
import { MediumPipeline, testConvention } from '../support/medium-pipeline.js';

describe('ReconcilerService', () => {
  let pipeline: MediumPipeline;
  let conventions = 0;

  beforeAll(async () => {
    pipeline = await MediumPipeline.create('medium_reconciler');
  });
  afterAll(() => pipeline.close());

  /** A run with batch 0 sourced (hooks wait for it) and ingestion finished: one page of 3 records. */
  async function sourcedRun(): Promise<string> {
    pipeline.runner.ingester = pagedIngester({ total: 3, pageSize: 3 });
    const runId = await pipeline.startRun(testConvention(`reconcile-${++conventions}`), { batchSize: 3 });
    await pipeline.ingester.ingest(pipeline.job(runId, 0));
    return runId;
  }
  const ready = (runId: string) => pipeline.queues.queue(QueueName.BatchReady).jobs.get(JobId.batchReady(runId, 0));

  it('re-adds the job a sourced batch waits for when Redis lost it, and does nothing more on the next pass', async () => {
    const runId = await sourcedRun();
    await ready(runId)!.remove();

    const first = await pipeline.reconciler.reconcileOnce();
    expect(first.requeued).toBeGreaterThanOrEqual(1);
    expect(await ready(runId)?.getState()).toBe('waiting');

    const second = await pipeline.reconciler.reconcileOnce();
    expect(second).toMatchObject({ accounted: 0, requeued: 0 });
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced']);
  });

  it("accounts a job that failed for good while its worker's accounting was lost, from its [kind] reason", async () => {
    const runId = await sourcedRun();
    pipeline.queues.queue(QueueName.BatchReady).settle(JobId.batchReady(runId, 0), 'failed', '[hook_exit] hook "flag" exited with code 2');

    const report = await pipeline.reconciler.reconcileOnce();

    expect(report.accounted).toBe(1);
    expect(await pipeline.batchStates(runId)).toEqual(['0:failed']);
    const [batch] = await pipeline.batches(runId);
    expect(batch).toMatchObject({ failureStage: 'hooks', failureKind: ErrorKind.HookExit, failureReason: 'hook "flag" exited with code 2' });
    expect(await pipeline.run(runId)).toMatchObject({ status: 'completed', batchesFailed: 1 });
    expect((await pipeline.reconciler.reconcileOnce()).accounted).toBe(0);
  });

  it("never accounts a stray job's failure: it replaces the job under the batch's id instead", async () => {
    const runId = await sourcedRun();
    pipeline.queues.queue(QueueName.BatchReady).settle(JobId.batchReady(runId, 0), 'failed', '[stray_job] stray job: not the pipeline job');

    const report = await pipeline.reconciler.reconcileOnce();

    expect(report.accounted).toBe(0);
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced']);
    expect(await ready(runId)?.getState()).toBe('waiting');
  });

  it('replaces a job that completed under the batch id without moving the batch', async () => {
    const runId = await sourcedRun();
    pipeline.queues.queue(QueueName.BatchReady).settle(JobId.batchReady(runId, 0), 'completed');

    await pipeline.reconciler.reconcileOnce();

    expect(await ready(runId)?.getState()).toBe('waiting');
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced']);
  });

  it("re-adds the next pull of a run whose ingestion is open, and completes a run whose last batch's completion was lost", async () => {
    pipeline.runner.ingester = pagedIngester({ total: 6, pageSize: 3 });
    const runId = await pipeline.startRun(testConvention(`reconcile-${++conventions}`), { batchSize: 3 });
    await pipeline.ingester.ingest(pipeline.job(runId, 0));
    await pipeline.queues.queue(QueueName.NextBatch).jobs.get(JobId.nextBatch(runId, 1))!.remove();

    await pipeline.reconciler.reconcileOnce();

    expect(pipeline.jobIds(QueueName.NextBatch)).toContain(JobId.nextBatch(runId, 1));
  });
});
