import { ErrorKind, Stage } from '#osa/domain';
import { JobId, QueueName } from '#osa/queues';
import { exitingContainer, flagHook, pagedIngester } from '../support/fake-container-runner.js';
import { MediumPipeline, testConvention } from '../support/medium-pipeline.js';

describe('RunHooksService', () => {
  let pipeline: MediumPipeline;
  let conventions = 0;

  beforeAll(async () => {
    pipeline = await MediumPipeline.create('medium_hooks');
    pipeline.runner.ingester = pagedIngester({ total: 9, pageSize: 9, rejectEvery: 3 });
  });
  afterAll(() => pipeline.close());
  beforeEach(() => pipeline.runner.hooks.set('flag', flagHook()));

  /** A run whose batch 0 (9 records, 3 of them flagged) is sourced. */
  async function sourcedRun(): Promise<string> {
    const runId = await pipeline.startRun(testConvention(`hooks-${++conventions}`), { batchSize: 9 });
    await pipeline.ingester.ingest(pipeline.job(runId, 0));
    return runId;
  }

  it("records the batch hooked with the hook's counts and every rejection, then hands it to the publisher", async () => {
    const runId = await sourcedRun();
    expect(await pipeline.hooks.runHooks(pipeline.job(runId, 0))).toEqual({ outcome: 'hooked' });

    const [batch] = await pipeline.batches(runId);
    expect(batch).toMatchObject({ state: 'hooked', rejectedCount: 3, erroredCount: 0 });
    expect(batch!.hookCounts).toEqual({ flag: expect.objectContaining({ passed: 6, rejected: 3, errored: 0, missing: 0 }) as unknown });
    expect(await pipeline.run(runId)).toMatchObject({ rejectedCount: 3, erroredCount: 0 });
    expect((await pipeline.issues(runId)).map((i) => [i.stage, i.hook, i.sourceId, i.kind])).toEqual(
      ['rec-0', 'rec-3', 'rec-6'].map((id) => ['hooks', 'flag', id, 'rejected']),
    );
    expect(pipeline.jobIds(QueueName.HooksCompleted)).toContain(JobId.hooksCompleted(runId, 0));
  });

  it('repeated for a hooked batch: runs no hook, changes nothing and re-adds the same publish job', async () => {
    const runId = await sourcedRun();
    await pipeline.hooks.runHooks(pipeline.job(runId, 0));
    const before = { run: await pipeline.run(runId), batches: await pipeline.batches(runId), issues: await pipeline.issues(runId) };
    const hooksRun = pipeline.runner.count('hook');
    const adds = pipeline.queues.queue(QueueName.HooksCompleted).adds.length;

    expect(await pipeline.hooks.runHooks(pipeline.job(runId, 0))).toEqual({ outcome: 'already-hooked' });

    expect(pipeline.runner.count('hook')).toBe(hooksRun);
    expect({ run: await pipeline.run(runId), batches: await pipeline.batches(runId), issues: await pipeline.issues(runId) }).toEqual(before);
    expect(
      pipeline.queues
        .queue(QueueName.HooksCompleted)
        .adds.slice(adds)
        .map((a) => a.id),
    ).toEqual([JobId.hooksCompleted(runId, 0)]);
  });

  it('refuses a stray job for a batch never sourced, or a run that does not exist, running no hook', async () => {
    const runId = await sourcedRun();
    const hooksRun = pipeline.runner.count('hook');
    await expect(pipeline.hooks.runHooks(pipeline.job(runId, 4))).rejects.toMatchObject({ kind: ErrorKind.StrayJob });
    await expect(pipeline.hooks.runHooks(pipeline.job('00000000-0000-4000-8000-000000000000', 0))).rejects.toMatchObject({
      kind: ErrorKind.StrayJob,
    });
    expect(pipeline.runner.count('hook')).toBe(hooksRun);
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced']);
  });

  it('lets a failing hook fail the step permanently; accounting that failure fails the batch and completes the run', async () => {
    const runId = await sourcedRun();
    pipeline.runner.hooks.set('flag', exitingContainer(3, ['hook blew up']));

    const failure = await pipeline.hooks.runHooks(pipeline.job(runId, 0)).catch((err: unknown) => err);
    expect(failure).toMatchObject({ kind: ErrorKind.HookExit, retryable: false, logTail: ['hook blew up'] });
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced']);

    const accounted = await pipeline.exhaustion.accountFinalFailure(
      Stage.Hooks,
      { runId, batchIndex: 0 },
      { kind: ErrorKind.HookExit, reason: 'exit 3', logTail: ['hook blew up'] },
    );
    expect(accounted).toMatchObject({ applied: true, completed: true });
    expect(await pipeline.batchStates(runId)).toEqual(['0:failed']);
    expect(await pipeline.run(runId)).toMatchObject({ status: 'completed', batchesFailed: 1, failureKind: ErrorKind.HookExit });
    expect(pipeline.jobIds(QueueName.HooksCompleted)).not.toContain(JobId.hooksCompleted(runId, 0));
    // Accounting it again (the reconciler after a crash) changes nothing.
    expect(
      await pipeline.exhaustion.accountFinalFailure(
        Stage.Hooks,
        { runId, batchIndex: 0 },
        { kind: ErrorKind.HookExit, reason: 'exit 3', logTail: [] },
      ),
    ).toMatchObject({
      applied: false,
    });
    expect(await pipeline.run(runId)).toMatchObject({ batchesFailed: 1 });
  });
});
