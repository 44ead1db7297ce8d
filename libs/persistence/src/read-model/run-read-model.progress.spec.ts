import { randomUUID } from 'node:crypto';
import { ErrorKind, validateConvention } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { ConventionRepository } from '../repositories/convention.repository.js';
import { RunLedger } from '../repositories/run-ledger.js';
import { RunReadModel } from './run-read-model.js';

const convention = validateConvention({ id: 'progress-test', ingester: { command: ['true'] }, hooks: [{ name: 'size', command: ['true'] }] });

/** The read a live run page polls: counts only, no per-batch rows or log tails. */
describe('RunReadModel progress reads', () => {
  let database: TestDatabase;
  let reads: RunReadModel;
  let runId: string;

  beforeAll(async () => {
    database = await createTestDatabase('read_progress');
    const ledger = new RunLedger(database.db);
    reads = new RunReadModel(database.db);
    await new ConventionRepository().upsert(database.db, convention);
    runId = randomUUID();
    await ledger.createRun({ id: runId, conventionId: convention.id, startJobId: `start-${runId}`, convention, batchSize: 10, recordLimit: null });
    for (let i = 0; i < 4; i++) {
      await ledger.recordSourced(
        {
          runId,
          batchIndex: i,
          ingesterAttempt: 1,
          recordCount: 10,
          invalidCount: 0,
          hasMore: true,
          nextSession: { page: i + 1 },
          finishIngestion: false,
        },
        [],
      );
    }
    const logTail = ['Killed'];
    await ledger.failBatch(runId, 0, 'hooks', { kind: ErrorKind.Oom, reason: 'hook "size" killed for memory', logTail });
    await ledger.failBatch(runId, 1, 'hooks', { kind: ErrorKind.Oom, reason: 'hook "size" killed for memory', logTail });
    const counts = { passed: 10, rejected: 0, errored: 0, missing: 0, invalid: 0 };
    await ledger.recordHooked({ runId, batchIndex: 2, hooksAttempt: 1, hookCounts: { size: counts }, rejectedCount: 0, erroredCount: 0 });
    await ledger.failBatch(runId, 2, 'publisher', { kind: ErrorKind.HookExit, reason: 'exit 2', logTail });
  });
  afterAll(() => database.drop());

  it('counts failed batches by stage and kind', async () => {
    const counts = await reads.countFailedBatches(runId);
    expect(counts.sort((a, b) => (a.stage ?? '').localeCompare(b.stage ?? ''))).toEqual([
      { stage: 'hooks', kind: ErrorKind.Oom, n: 2 },
      { stage: 'publisher', kind: ErrorKind.HookExit, n: 1 },
    ]);
  });

  it('gives the run summary with its batch counts, and nothing for an unknown run', async () => {
    const progress = await reads.getRunProgress(runId);
    expect(progress).toMatchObject({
      summary: { id: runId, status: 'running' },
      batchesByState: { sourced: 1, failed: 3, hooked: 0, published: 0 },
      pausedUntil: null,
    });
    expect(progress!.failedBatches.reduce((n, c) => n + c.n, 0)).toBe(3);
    expect(await reads.getRunProgress(randomUUID())).toBeUndefined();
  });
});
