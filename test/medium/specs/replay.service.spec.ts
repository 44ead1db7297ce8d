import { ErrorKind, Stage } from '#osa/domain';
import { JobId, QueueName } from '#osa/queues';
import { flagHook, pagedIngester } from '../support/fake-container-runner.js';
import { MediumPipeline, testConvention } from '../support/medium-pipeline.js';

describe('ReplayService', () => {
  let pipeline: MediumPipeline;
  let conventions = 0;

  beforeAll(async () => {
    pipeline = await MediumPipeline.create('medium_replay');
    pipeline.runner.ingester = pagedIngester({ total: 4, pageSize: 2 });
    pipeline.runner.hooks.set('flag', flagHook());
  });
  afterAll(() => pipeline.close());

  /** A completed run: batch 0 published, batch 1 failed in the hooks with its job left failed in the queue. */
  async function runWithFailedBatch(): Promise<string> {
    const runId = await pipeline.startRun(testConvention(`replay-${++conventions}`), { batchSize: 2 });
    for (const n of [0, 1]) await pipeline.ingester.ingest(pipeline.job(runId, n));
    await pipeline.hooks.runHooks(pipeline.job(runId, 0));
    await pipeline.publisher.publish(pipeline.job(runId, 0));
    pipeline.queues.queue(QueueName.BatchReady).settle(JobId.batchReady(runId, 1), 'failed', '[hook_exit] exit 1');
    await pipeline.exhaustion.accountFinalFailure(Stage.Hooks, { runId, batchIndex: 1 }, { kind: ErrorKind.HookExit, reason: 'exit 1', logTail: [] });
    expect(await pipeline.run(runId)).toMatchObject({ status: 'completed', batchesFailed: 1 });
    return runId;
  }

  it('reopens the failed batch and the run, replaces the failed job with a fresh one, and writes IngestRunReplayed', async () => {
    const runId = await runWithFailedBatch();

    const result = await pipeline.replays.replay({ runId });

    expect(result).toMatchObject({
      outcome: 'replayed',
      reopened: true,
      requeued: [{ batchIndex: 1, queue: QueueName.BatchReady, jobId: JobId.batchReady(runId, 1) }],
    });
    expect(await pipeline.batchStates(runId)).toEqual(['0:published', '1:sourced']);
    expect(await pipeline.run(runId)).toMatchObject({ status: 'running', batchesFailed: 0 });
    expect(await pipeline.queues.queue(QueueName.BatchReady).jobs.get(JobId.batchReady(runId, 1))?.getState()).toBe('waiting');
    expect((await pipeline.eventIds(runId)).filter((id) => id.includes('replay'))).toHaveLength(1);

    // The replayed batch goes through as any other and completes the run a second time.
    await pipeline.hooks.runHooks(pipeline.job(runId, 1));
    expect(await pipeline.publisher.publish(pipeline.job(runId, 1))).toMatchObject({ outcome: 'published', completedRun: true });
    expect(await pipeline.run(runId)).toMatchObject({ status: 'completed', batchesFailed: 0, publishedCount: 4 });
  });

  it('repeated: finds nothing left to replay and changes nothing', async () => {
    const runId = await runWithFailedBatch();
    await pipeline.replays.replay({ runId });
    const before = { run: await pipeline.run(runId), batches: await pipeline.batches(runId), events: await pipeline.eventIds(runId) };

    expect(await pipeline.replays.replay({ runId })).toMatchObject({ outcome: 'nothing-to-replay' });
    expect({ run: await pipeline.run(runId), batches: await pipeline.batches(runId), events: await pipeline.eventIds(runId) }).toEqual(before);
  });

  it('answers not-found for a run that does not exist, and replays only the batches asked for', async () => {
    expect(await pipeline.replays.replay({ runId: '00000000-0000-4000-8000-000000000000' })).toEqual({ outcome: 'not-found' });
    const runId = await runWithFailedBatch();
    expect(await pipeline.replays.replay({ runId, batchIndexes: [0] })).toMatchObject({ outcome: 'nothing-to-replay' });
    expect(await pipeline.batchStates(runId)).toEqual(['0:published', '1:failed']);
  });
});
