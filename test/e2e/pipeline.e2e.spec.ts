import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RecordRepository } from '#osa/persistence';
import { PipelineHarness, countingConvention } from '../support/pipeline-harness.js';

describe('pipeline end to end (local runner, real Redis and Postgres)', () => {
  let harness: PipelineHarness;

  beforeAll(async () => {
    harness = await PipelineHarness.start('e2e');
  });
  afterAll(() => harness.stop());

  it('completes a multi-batch run with exact counts', async () => {
    await harness.applyConvention(countingConvention('multi', { total: 95, page_size: 10, reject_every: 7 }));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'multi' }));
    const run = await harness.waitForRun(runId);
    const rejected = Array.from({ length: 95 }, (_, i) => i).filter((i) => i % 7 === 0).length;
    expect(run).toMatchObject({
      status: 'completed',
      ingestionFinished: true,
      batchesIngested: 10,
      batchesPublished: 10,
      batchesFailed: 0,
      recordsSourced: 95,
      publishedCount: 95 - rejected,
      rejectedCount: rejected,
    });
    const events = await harness.reads.listEvents(runId);
    expect(events.map((e) => e.type).filter((t) => t !== 'IngestBatchPublished')).toEqual(['IngestRunStarted', 'IngestCompleted']);
    expect(events.filter((e) => e.type === 'IngestBatchPublished')).toHaveLength(10);
  });

  it('publishes each record with where its files are stored under DATA_DIR', async () => {
    await harness.applyConvention(countingConvention('with-files', { total: 6, page_size: 10, files_every: 3 }));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'with-files' }));
    await harness.waitForRun(runId);
    const record = await new RecordRepository().findBySource(harness.database.db, 'with-files', 'rec-000003');
    const [file] = record!.files as Array<{ name: string; storage_path: string }>;
    expect(file).toMatchObject({ name: 'data.txt', relative_path: 'data.txt' });
    expect(await readFile(path.join(harness.config.dataDir, file!.storage_path), 'utf8')).toBe('record 3\n');
    expect(record!.features).toEqual({ flag: [{ n2: 6 }] });
  });

  it('stops at exactly the record limit', async () => {
    await harness.applyConvention(countingConvention('limited', { total: 1000, page_size: 10 }));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'limited', limit: 25, batchSize: 10 }));
    const run = await harness.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', recordsSourced: 25, publishedCount: 25, batchesIngested: 3 });
  });

  it('completes an empty source with nothing published', async () => {
    await harness.applyConvention(countingConvention('empty', { total: 0 }));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'empty' }));
    const run = await harness.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', batchesIngested: 0, publishedCount: 0, ingestionFinished: true });
  });

  it('refuses a second start while a run is active, and runs again after it completed without duplicates', async () => {
    await harness.applyConvention(countingConvention('again', { total: 30, page_size: 10, sleep_ms: 200 }));
    const first = await harness.runIdOf(await harness.startIngest({ conventionId: 'again' }));
    await expect(harness.runIdOf(await harness.startIngest({ conventionId: 'again' }))).rejects.toThrow(/already has an active run/);
    expect(await harness.waitForRun(first)).toMatchObject({ publishedCount: 30 });

    const second = await harness.runIdOf(await harness.startIngest({ conventionId: 'again' }));
    const rerun = await harness.waitForRun(second);
    // Re-running the ingestion sources the same records; ON CONFLICT keeps the first copies.
    expect(rerun).toMatchObject({ status: 'completed', recordsSourced: 30, publishedCount: 0, batchesPublished: 3 });
  });

  it('fails a bad start request at once, naming the field, and creates nothing', async () => {
    await expect(harness.runIdOf(await harness.startIngest({ conventionId: 'multi', batchSize: 'ten' }))).rejects.toThrow(/batchSize/);
    await expect(harness.runIdOf(await harness.startIngest({ conventionId: 'nope' }))).rejects.toThrow(/unknown convention "nope"/);
    await harness.applyConvention({ id: 'no-ingester', hooks: [] });
    await expect(harness.runIdOf(await harness.startIngest({ conventionId: 'no-ingester' }))).rejects.toThrow(/has no ingester/);
  });
});
