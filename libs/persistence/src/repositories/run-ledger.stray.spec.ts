import { randomUUID } from 'node:crypto';
import { ErrorKind, validateConvention } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { ConventionRepository } from './convention.repository.js';
import { RunReadModel } from '../read-model/run-read-model.js';
import { RunLedger } from './run-ledger.js';

const failure = { kind: ErrorKind.RetriesExhausted, reason: 'gave up', logTail: [] };

/**
 * A final failure may only be accounted where that stage's job would be: a failure for any
 * other batch (a stray job added by a queue client) must change nothing.
 */
describe(`${RunLedger.name} refuses failures that do not follow from the ledger`, () => {
  let database: TestDatabase;
  let ledger: RunLedger;
  let reads: RunReadModel;

  beforeAll(async () => {
    database = await createTestDatabase('ledger-stray');
    ledger = new RunLedger(database.db);
    reads = new RunReadModel(database.db);
  });
  afterAll(() => database.drop());

  /** A running run (own convention, so runs never collide) with `sourced` batches, the last leaving a session. */
  async function runWithBatches(sourced: number): Promise<string> {
    const runId = randomUUID();
    const convention = validateConvention({ id: `stray-${runId.slice(0, 8)}`, ingester: { command: ['true'] } });
    await new ConventionRepository().upsert(database.db, convention);
    await ledger.createRun({
      id: runId,
      conventionId: convention.id,
      startJobId: `start-${runId}`,
      convention,
      batchSize: 10,
      recordLimit: null,
    });
    await ledger.markRunning(runId);
    for (let i = 0; i < sourced; i++) {
      await ledger.recordSourced({
        runId,
        batchIndex: i,
        ingesterAttempt: 1,
        recordCount: 10,
        invalidCount: 0,
        hasMore: true,
        nextSession: { offset: i + 1 },
        finishIngestion: false,
      });
    }
    return runId;
  }

  const run = (runId: string) => reads.findRun(runId);

  describe('failIngestion', () => {
    it.each([
      ['far ahead of the next one', 999],
      ['one past the next one', 3],
    ])('leaves the run alone for a batch %s', async (_label, batchIndex) => {
      const runId = await runWithBatches(2);
      const result = await ledger.failIngestion(runId, batchIndex, failure);
      expect(result.applied).toBe(false);
      expect(await run(runId)).toMatchObject({ status: 'running', ingestionFinished: false, batchesFailed: 0, batchesIngested: 2 });
      expect(await reads.findBatch(runId, batchIndex)).toBeUndefined();
    });

    it("fails the ingestion on the run's next batch", async () => {
      const runId = await runWithBatches(2);
      expect((await ledger.failIngestion(runId, 2, failure)).applied).toBe(true);
      expect(await run(runId)).toMatchObject({ ingestionFinished: true, batchesFailed: 1 });
    });

    it('refuses once the ingestion has finished', async () => {
      const runId = await runWithBatches(1);
      await ledger.failIngestion(runId, 1, failure);
      expect((await ledger.failIngestion(runId, 2, failure)).applied).toBe(false);
      expect(await run(runId)).toMatchObject({ batchesFailed: 1, batchesIngested: 2 });
    });
  });

  describe('failBatch', () => {
    it('lets a hooks failure fail only a sourced batch, and a publisher failure only a hooked one', async () => {
      const runId = await runWithBatches(2);
      expect((await ledger.failBatch(runId, 0, 'publisher', failure)).applied).toBe(false);
      await ledger.recordHooked({ runId, batchIndex: 1, hooksAttempt: 1, hookCounts: {}, rejectedCount: 0, erroredCount: 0 });
      expect((await ledger.failBatch(runId, 1, 'hooks', failure)).applied).toBe(false);
      expect(await run(runId)).toMatchObject({ batchesFailed: 0 });
      expect((await ledger.failBatch(runId, 0, 'hooks', failure)).applied).toBe(true);
      expect((await ledger.failBatch(runId, 1, 'publisher', failure)).applied).toBe(true);
      expect(await run(runId)).toMatchObject({ batchesFailed: 2 });
    });
  });

  describe('batches.nextAttempt', () => {
    it.each(['ingester', 'hooks'] as const)('numbers every start of the %s stage differently', async (stage) => {
      const numbers = await Promise.all(Array.from({ length: 20 }, () => ledger.nextAttempt(stage)));
      expect(new Set(numbers).size).toBe(20);
    });
  });
});
