import { ErrorKind } from '#osa/domain';
import { JobId, QueueName } from '#osa/queues';
import { exitingContainer, pagedIngester } from '../support/fake-container-runner.js';
import { MediumPipeline, testConvention } from '../support/medium-pipeline.js';

describe('IngestBatchService', () => {
  let pipeline: MediumPipeline;
  let conventions = 0;
  const convention = () => testConvention(`ingest-${++conventions}`);

  beforeAll(async () => {
    pipeline = await MediumPipeline.create('medium_ingest');
  });
  afterAll(() => pipeline.close());
  beforeEach(() => {
    pipeline.runner.ingester = pagedIngester({ total: 25, pageSize: 10 });
  });

  it('sources batch 0: records it with its session and counts, then asks for hooks on it and for batch 1', async () => {
    const runId = await pipeline.startRun(convention(), { batchSize: 10 });
    const outcome = await pipeline.ingester.ingest(pipeline.job(runId, 0));

    expect(outcome.outcome).toBe('sourced');
    const [batch] = await pipeline.batches(runId);
    expect(batch).toMatchObject({ batchIndex: 0, state: 'sourced', recordCount: 10, invalidCount: 0, hasMore: true, nextSession: { offset: 10 } });
    expect(await pipeline.run(runId)).toMatchObject({ status: 'running', batchesIngested: 1, recordsSourced: 10, ingestionFinished: false });
    expect(pipeline.jobIds(QueueName.BatchReady)).toEqual([JobId.batchReady(runId, 0)]);
    expect(pipeline.jobIds(QueueName.NextBatch)).toEqual([JobId.nextBatch(runId, 0), JobId.nextBatch(runId, 1)].sort());
    expect(pipeline.runner.count('ingester')).toBe(1);
  });

  it('hands batch n+1 the session batch n wrote, and finishes ingestion on the last page', async () => {
    const runId = await pipeline.startRun(convention(), { batchSize: 10 });
    for (const n of [0, 1, 2]) await pipeline.ingester.ingest(pipeline.job(runId, n));

    expect((await pipeline.batches(runId)).map((b) => [b.batchIndex, b.recordCount, b.hasMore])).toEqual([
      [0, 10, true],
      [1, 10, true],
      [2, 5, false],
    ]);
    expect(await pipeline.run(runId)).toMatchObject({ batchesIngested: 3, recordsSourced: 25, ingestionFinished: true });
    expect(pipeline.jobIds(QueueName.NextBatch)).not.toContain(JobId.nextBatch(runId, 3));
  });

  it('repeated for a batch already sourced: changes nothing, runs no container and re-adds the same jobs', async () => {
    const runId = await pipeline.startRun(convention(), { batchSize: 10 });
    await pipeline.ingester.ingest(pipeline.job(runId, 0));
    const before = { run: await pipeline.run(runId), batches: await pipeline.batches(runId), ran: pipeline.runner.count('ingester') };
    const readyAdds = pipeline.queues.queue(QueueName.BatchReady).adds.length;

    const outcome = await pipeline.ingester.ingest(pipeline.job(runId, 0));

    expect(outcome.outcome).toBe('already-sourced');
    expect(await pipeline.run(runId)).toEqual(before.run);
    expect(await pipeline.batches(runId)).toEqual(before.batches);
    expect(pipeline.runner.count('ingester')).toBe(before.ran);
    // Asked again under the same id (a crash may have lost the first add); the queue keeps one.
    expect(
      pipeline.queues
        .queue(QueueName.BatchReady)
        .adds.slice(readyAdds)
        .map((a) => a.id),
    ).toEqual([JobId.batchReady(runId, 0)]);
    expect(pipeline.jobIds(QueueName.BatchReady).filter((id) => id.includes(runId))).toEqual([JobId.batchReady(runId, 0)]);
  });

  it('refuses a stray job for a batch that does not follow from the ledger, touching nothing', async () => {
    const runId = await pipeline.startRun(convention(), { batchSize: 10 });
    const before = await pipeline.run(runId);

    await expect(pipeline.ingester.ingest(pipeline.job(runId, 5))).rejects.toMatchObject({
      kind: ErrorKind.StrayJob,
      message: expect.stringContaining(`the run's next batch is 0`) as unknown,
    });
    await expect(pipeline.ingester.ingest(pipeline.job('00000000-0000-4000-8000-000000000000', 0))).rejects.toMatchObject({
      kind: ErrorKind.StrayJob,
    });

    expect(await pipeline.run(runId)).toEqual(before);
    expect(await pipeline.batches(runId)).toEqual([]);
    expect(pipeline.runner.count('ingester')).toBe(pipeline.runner.requests.filter((r) => r.runId !== runId).length);
  });

  it('lets a failing ingester throw its classified error and records nothing; accounting its final failure ends ingestion', async () => {
    const runId = await pipeline.startRun(convention(), { batchSize: 10 });
    pipeline.runner.ingester = exitingContainer(2);

    const failure = await pipeline.ingester.ingest(pipeline.job(runId, 0)).catch((err: unknown) => err);
    expect(failure).toMatchObject({ kind: ErrorKind.IngesterExit, retryable: true, logTail: ['exiting with 2'] });
    expect(await pipeline.batches(runId)).toEqual([]);
    expect(await pipeline.run(runId)).toMatchObject({ batchesIngested: 0, batchesFailed: 0, ingestionFinished: false });

    await pipeline.exhaustion.accountFinalFailure(
      'ingester',
      { runId, batchIndex: 0 },
      { kind: ErrorKind.IngesterExit, reason: 'exit 2', logTail: [] },
    );
    expect(await pipeline.batchStates(runId)).toEqual(['0:failed']);
    expect(await pipeline.run(runId)).toMatchObject({
      status: 'completed',
      batchesIngested: 1,
      batchesFailed: 1,
      ingestionFinished: true,
      failureKind: ErrorKind.IngesterExit,
    });
    expect(pipeline.jobIds(QueueName.BatchReady).filter((id) => id.includes(runId))).toEqual([]);
  });

  it('stops at the record limit, telling the ingester how many records it may still take', async () => {
    const runId = await pipeline.startRun(convention(), { batchSize: 10, limit: 14 });
    await pipeline.ingester.ingest(pipeline.job(runId, 0));
    await pipeline.ingester.ingest(pipeline.job(runId, 1));

    expect(pipeline.runner.requests.filter((r) => r.runId === runId).map((r) => r.env.OSA_LIMIT)).toEqual(['10', '4']);
    expect(await pipeline.run(runId)).toMatchObject({ recordsSourced: 14, ingestionFinished: true });
    expect(pipeline.jobIds(QueueName.NextBatch)).not.toContain(JobId.nextBatch(runId, 2));
  });
});
