import { randomUUID } from 'node:crypto';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { ErrorKind, validateConvention } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { ConventionRepository } from './convention.repository.js';
import { RunReadModel } from '../read-model/run-read-model.js';
import { RunLedger } from './run-ledger.js';

const convention = validateConvention({ id: 'ledger-test', ingester: { command: ['true'] } });
const failure = { kind: ErrorKind.HookExit, reason: 'hook "x" exited with code 2', logTail: ['boom'] };

describe(RunLedger.name, () => {
  let database: TestDatabase;
  let ledger: RunLedger;
  let reads: RunReadModel;

  beforeAll(async () => {
    database = await createTestDatabase('ledger');
    ledger = new RunLedger(database.db);
    reads = new RunReadModel(database.db);
    await new ConventionRepository().upsert(database.db, convention);
  });
  afterAll(() => database.drop());

  async function startRun(): Promise<string> {
    const id = randomUUID();
    const created = await ledger.createRun({
      id,
      conventionId: convention.id,
      startJobId: `start-${id}`,
      convention,
      batchSize: 10,
      recordLimit: null,
    });
    expect(created.outcome).toBe('created');
    return id;
  }

  async function sourceBatches(runId: string, n: number) {
    for (let i = 0; i < n; i++) {
      await ledger.recordSourced({
        runId,
        batchIndex: i,
        ingesterAttempt: 1,
        recordCount: 10,
        invalidCount: 0,
        hasMore: i < n - 1,
        nextSession: { offset: (i + 1) * 10 },
        finishIngestion: i === n - 1,
      });
    }
  }

  async function hookAll(runId: string, n: number) {
    for (let i = 0; i < n; i++) {
      await ledger.recordHooked({ runId, batchIndex: i, hooksAttempt: 1, hookCounts: {}, rejectedCount: 0, erroredCount: 0 });
    }
  }

  describe('createRun', () => {
    it('refuses a second active run for the same convention and finds the run of a repeated start job', async () => {
      const runId = await startRun();
      const second = await ledger.createRun({
        id: randomUUID(),
        conventionId: convention.id,
        startJobId: 'another-job',
        convention,
        batchSize: 10,
        recordLimit: null,
      });
      expect(second).toEqual({ outcome: 'active-run-exists', activeRunId: runId });
      const repeated = await ledger.createRun({
        id: randomUUID(),
        conventionId: convention.id,
        startJobId: `start-${runId}`,
        convention,
        batchSize: 10,
        recordLimit: null,
      });
      expect(repeated.outcome).toBe('existing');
      expect(repeated.outcome === 'existing' && repeated.run.id).toBe(runId);
      // finish it so other tests can start runs
      await ledger.recordSourced({
        runId,
        batchIndex: 0,
        ingesterAttempt: 1,
        recordCount: 0,
        invalidCount: 0,
        hasMore: false,
        nextSession: null,
        finishIngestion: true,
      });
      expect((await reads.findRun(runId))?.status).toBe('completed');
    });
  });

  describe('concurrent accounting', () => {
    it('gives exact counters and exactly one completion for 50 parallel publishes and failures, and repeats change nothing', async () => {
      const runId = await startRun();
      await sourceBatches(runId, 50);
      await hookAll(runId, 50);
      const publishOrFail = (i: number) =>
        i % 5 === 0 ? ledger.failBatch(runId, i, 'publisher', failure) : ledger.recordPublished(runId, i, () => Promise.resolve(7));

      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => publishOrFail(i)));
      expect(results.filter((r) => r.applied)).toHaveLength(50);
      expect(results.filter((r) => r.completed)).toHaveLength(1);

      const repeats = await Promise.all(Array.from({ length: 50 }, (_, i) => publishOrFail(i)));
      expect(repeats.filter((r) => r.applied || r.completed)).toHaveLength(0);

      const run = await reads.findRun(runId);
      expect(run).toMatchObject({
        status: 'completed',
        batchesIngested: 50,
        batchesPublished: 40,
        batchesFailed: 10,
        publishedCount: 280,
        recordsSourced: 500,
        failureKind: ErrorKind.HookExit,
      });
      const events = await reads.listEvents(runId);
      expect(events.filter((e) => e.type === 'IngestCompleted')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'IngestBatchPublished')).toHaveLength(40);
    });

    it('does not complete before ingestion has finished', async () => {
      const runId = await startRun();
      await ledger.recordSourced({
        runId,
        batchIndex: 0,
        ingesterAttempt: 1,
        recordCount: 3,
        invalidCount: 0,
        hasMore: true,
        nextSession: { offset: 3 },
        finishIngestion: false,
      });
      await hookAll(runId, 1);
      const published = await ledger.recordPublished(runId, 0, () => Promise.resolve(3));
      expect(published).toMatchObject({ applied: true, completed: false });
      const failed = await ledger.failIngestion(runId, 1, { kind: ErrorKind.IngesterExit, reason: 'exit 1', logTail: [] });
      expect(failed).toMatchObject({ applied: true, completed: true });
      expect(failed.run).toMatchObject({ batchesIngested: 2, batchesPublished: 1, batchesFailed: 1, ingestionFinished: true, status: 'completed' });
      // A stale ingester failure for a batch that was sourced changes nothing.
      expect((await ledger.failIngestion(runId, 0, failure)).applied).toBe(false);
    });

    it('does not write records when the batch was published before', async () => {
      const runId = await startRun();
      await sourceBatches(runId, 1);
      await hookAll(runId, 1);
      let calls = 0;
      const insert = () => {
        calls++;
        return Promise.resolve(10);
      };
      await Promise.all([ledger.recordPublished(runId, 0, insert), ledger.recordPublished(runId, 0, insert)]);
      expect(calls).toBe(1);
      expect((await reads.findRun(runId))?.publishedCount).toBe(10);
      expect(await reads.findBatch(runId, 0)).toMatchObject({ state: 'published', publishedCount: 10, publishedAt: expect.any(Date) });
    });

    it('inserts no record and keeps the batch hooked when the publish fails', async () => {
      const runId = await startRun();
      await sourceBatches(runId, 1);
      await hookAll(runId, 1);
      await expect(ledger.recordPublished(runId, 0, () => Promise.reject(new Error('insert failed')))).rejects.toThrow('insert failed');
      expect(await reads.findBatch(runId, 0)).toMatchObject({ state: 'hooked', publishedCount: 0, publishedAt: null });
      expect((await ledger.recordPublished(runId, 0, () => Promise.resolve(4))).applied).toBe(true);
      expect(await reads.findRun(runId)).toMatchObject({ status: 'completed', batchesPublished: 1, publishedCount: 4 });
    });

    it('tells the caller that the run had already ended', async () => {
      const runId = await startRun();
      await sourceBatches(runId, 1);
      await hookAll(runId, 1);
      await ledger.recordPublished(runId, 0, () => Promise.resolve(10));
      const late = await ledger.recordSourced({
        runId,
        batchIndex: 1,
        ingesterAttempt: 1,
        recordCount: 5,
        invalidCount: 0,
        hasMore: false,
        nextSession: null,
        finishIngestion: true,
      });
      expect(late).toMatchObject({ applied: false, runTerminal: true });
      expect(await reads.findBatch(runId, 1)).toBeUndefined();
    });
  });
});
