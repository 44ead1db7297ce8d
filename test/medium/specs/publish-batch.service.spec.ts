import { ErrorKind, Stage } from '#osa/domain';
import { pagedIngester } from '../support/fake-container-runner.js';
import { MediumPipeline, testConvention } from '../support/medium-pipeline.js';

describe('PublishBatchService', () => {
  let pipeline: MediumPipeline;
  let conventions = 0;

  beforeAll(async () => {
    pipeline = await MediumPipeline.create('medium_publish');
    pipeline.runner.ingester = pagedIngester({ total: 8, pageSize: 4, rejectEvery: 4 });
  });
  afterAll(() => pipeline.close());

  /** A run of two batches of 4 records (rec-0 and rec-4 flagged); `hooked` of them hooked. */
  async function run(hooked: number[]): Promise<string> {
    const runId = await pipeline.startRun(testConvention(`publish-${++conventions}`), { batchSize: 4 });
    await pipeline.ingester.ingest(pipeline.job(runId, 0));
    await pipeline.ingester.ingest(pipeline.job(runId, 1));
    for (const n of hooked) await pipeline.hooks.runHooks(pipeline.job(runId, n));
    return runId;
  }

  it('publishes the passed records with the batch, and completes the run with its last batch, writing each event once', async () => {
    const runId = await run([0, 1]);
    expect(await pipeline.publisher.publish(pipeline.job(runId, 0))).toEqual({ outcome: 'published', published: 3, completedRun: false });
    expect(await pipeline.run(runId)).toMatchObject({ status: 'running', publishedCount: 3 });
    expect(await pipeline.publisher.publish(pipeline.job(runId, 1))).toEqual({ outcome: 'published', published: 3, completedRun: true });

    expect(await pipeline.publishedIds(runId)).toEqual(['rec-1', 'rec-2', 'rec-3', 'rec-5', 'rec-6', 'rec-7']);
    expect(await pipeline.batchStates(runId)).toEqual(['0:published', '1:published']);
    expect(await pipeline.run(runId)).toMatchObject({ status: 'completed', publishedCount: 6, rejectedCount: 2, batchesFailed: 0 });
    expect(await pipeline.eventIds(runId)).toEqual([
      expect.stringContaining('run-started') as unknown,
      `batch-published-${runId}-0`,
      `batch-published-${runId}-1`,
      expect.stringContaining('run-completed') as unknown,
    ]);
    // The relay handed every event to the events queue under its own id.
    expect(pipeline.queues.queue('ingest-events').ids()).toEqual(expect.arrayContaining(await pipeline.eventIds(runId)) as unknown);
  });

  it('repeated for a published batch: inserts nothing, counts nothing, writes no event', async () => {
    const runId = await run([0]);
    await pipeline.publisher.publish(pipeline.job(runId, 0));
    const before = { run: await pipeline.run(runId), ids: await pipeline.publishedIds(runId), events: await pipeline.eventIds(runId) };

    expect(await pipeline.publisher.publish(pipeline.job(runId, 0))).toEqual({ outcome: 'already-published' });
    expect({ run: await pipeline.run(runId), ids: await pipeline.publishedIds(runId), events: await pipeline.eventIds(runId) }).toEqual(before);
  });

  it('refuses a stray job for a batch still waiting for its hooks, publishing nothing', async () => {
    const runId = await run([]);
    await expect(pipeline.publisher.publish(pipeline.job(runId, 0))).rejects.toMatchObject({
      kind: ErrorKind.StrayJob,
      message: expect.stringContaining('still waiting for its hooks') as unknown,
    });
    await expect(pipeline.publisher.publish(pipeline.job(runId, 7))).rejects.toMatchObject({ kind: ErrorKind.StrayJob });
    expect(await pipeline.publishedIds(runId)).toEqual([]);
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced', '1:sourced']);
  });

  it('a publish step that failed for good fails its batch; the other batch still completes the run', async () => {
    const runId = await run([0, 1]);
    await pipeline.exhaustion.accountFinalFailure(
      Stage.Publisher,
      { runId, batchIndex: 0 },
      { kind: ErrorKind.Unexpected, reason: 'database error', logTail: [] },
    );
    expect(await pipeline.publisher.publish(pipeline.job(runId, 0))).toEqual({ outcome: 'batch-ended' });
    expect(await pipeline.publisher.publish(pipeline.job(runId, 1))).toMatchObject({ outcome: 'published', completedRun: true });
    expect(await pipeline.batchStates(runId)).toEqual(['0:failed', '1:published']);
    expect(await pipeline.publishedIds(runId)).toEqual(['rec-5', 'rec-6', 'rec-7']);
    expect(await pipeline.run(runId)).toMatchObject({ status: 'completed', batchesFailed: 1, publishedCount: 3 });
  });
});
