import { randomUUID } from 'node:crypto';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { ErrorKind, validateConvention } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { ConventionRepository } from '../repositories/convention.repository.js';
import { RunLedger } from '../repositories/run-ledger.js';
import { RunReadModel } from './run-read-model.js';

const convention = validateConvention({
  id: 'read-model-test',
  ingester: { command: ['true'] },
  hooks: [
    { name: 'size', command: ['true'] },
    { name: 'virus', command: ['true'] },
  ],
});
const failure = { kind: ErrorKind.HookExit, reason: 'hook "size" exited with code 2', logTail: ['boom'] };

describe(RunReadModel.name, () => {
  let database: TestDatabase;
  let ledger: RunLedger;
  let reads: RunReadModel;
  let runId: string;

  beforeAll(async () => {
    database = await createTestDatabase('read_model');
    ledger = new RunLedger(database.db);
    reads = new RunReadModel(database.db);
    await new ConventionRepository().upsert(database.db, convention);
    runId = randomUUID();
    await ledger.createRun({ id: runId, conventionId: convention.id, startJobId: `start-${runId}`, convention, batchSize: 10, recordLimit: null });
    for (let i = 0; i < 3; i++) {
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
        [{ runId, batchIndex: i, stage: 'ingester', kind: 'invalid_line', reason: `line ${i}`, lineNumber: i + 1 }],
      );
    }
    const counts = (passed: number, rejected: number) => ({ passed, rejected, errored: 0, missing: 0, invalid: 0 });
    await ledger.recordHooked(
      { runId, batchIndex: 0, hooksAttempt: 1, hookCounts: { size: counts(9, 1), virus: counts(9, 0) }, rejectedCount: 1, erroredCount: 0 },
      [{ runId, batchIndex: 0, stage: 'hooks', hook: 'size', sourceId: 'r1', kind: 'rejected', reason: 'too big' }],
    );
    await ledger.recordHooked({
      runId,
      batchIndex: 1,
      hooksAttempt: 2,
      hookCounts: { size: { ...counts(8, 2), containerRuns: 3, oomKills: 1 }, virus: counts(8, 0) },
      rejectedCount: 2,
      erroredCount: 0,
    });
    await ledger.recordPublished(runId, 0, () => Promise.resolve(9));
    await ledger.failBatch(runId, 1, 'publisher', failure);
  });
  afterAll(() => database.drop());

  it('lists runs by convention and status, a page at a time, with counters', async () => {
    const page = await reads.listRuns({ conventionId: convention.id, status: 'running', limit: 10, offset: 0 });
    expect(page).toMatchObject({ total: 1, limit: 10, offset: 0 });
    expect(page.items[0]).toMatchObject({
      id: runId,
      status: 'running',
      counters: { batchesIngested: 3, batchesPublished: 1, batchesFailed: 1, recordsSourced: 30, published: 9, rejected: 3 },
      latestFailure: { kind: ErrorKind.HookExit },
    });
    expect(await reads.listRuns({ status: 'completed', conventionId: convention.id, limit: 10, offset: 0 })).toMatchObject({ items: [], total: 0 });
    expect((await reads.listRuns({ conventionId: convention.id, limit: 10, offset: 1 })).items).toEqual([]);
  });

  it('shows one run with batch states, per-hook outcomes summed over its batches, issue kinds and the next pull', async () => {
    const detail = await reads.getRun(runId);
    expect(detail).toMatchObject({
      hooks: ['size', 'virus'],
      batchesByState: { sourced: 1, hooked: 0, published: 1, failed: 1, empty: 0 },
      hookOutcomes: {
        size: { passed: 17, rejected: 3, errored: 0, missing: 0, invalid: 0, containerRuns: 3, oomKills: 1 },
        virus: { passed: 17, rejected: 0, errored: 0, missing: 0, invalid: 0 },
      },
      issuesByKind: { invalid_line: 3, rejected: 1 },
      issuesNotListed: 0,
      nextPull: { batchIndex: 3, pausedUntil: null, waiting: { reason: null, deferrals: 0 } },
    });
    expect(await reads.getRun(randomUUID())).toBeUndefined();
  });

  it('pages the batches with their stage, times and failure', async () => {
    const all = await reads.listBatches(runId);
    expect(all.total).toBe(3);
    const [published, failed, sourced] = all.items;
    expect(published).toMatchObject({ batchIndex: 0, state: 'published', waitingFor: null, published: 9, failure: null });
    expect(published!.hookedAt).toBeInstanceOf(Date);
    expect(published!.publishedAt).toBeInstanceOf(Date);
    expect(failed).toMatchObject({
      state: 'failed',
      failedAt: expect.any(Date),
      failure: { stage: 'publisher', kind: ErrorKind.HookExit, reason: failure.reason, logs: ['boom'] },
    });
    expect(sourced).toMatchObject({ state: 'sourced', waitingFor: 'hooks', hookedAt: null, sourcedAt: expect.any(Date) });
    const second = await reads.listBatches(runId, { limit: 1, offset: 1 });
    expect(second).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(second.items.map((b) => b.batchIndex)).toEqual([1]);
    expect((await reads.listBatches(runId, { states: ['failed'] })).items.map((b) => b.batchIndex)).toEqual([1]);
  });

  it('pages the issues by batch and kind', async () => {
    const invalid = await reads.listIssues(runId, { kind: 'invalid_line', limit: 2 });
    expect(invalid).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(invalid.items.map((i) => i.reason)).toEqual(['line 0', 'line 1']);
    const batch0 = await reads.listIssues(runId, { batchIndex: 0, limit: 10 });
    expect(batch0.items.map((i) => i.kind).sort()).toEqual(['invalid_line', 'rejected']);
    expect((await reads.listIssues(runId, { batchIndex: 0, kind: 'rejected', limit: 10, offset: 1 })).items).toEqual([]);
  });

  it('counts active runs and names the batches a replay would reset', async () => {
    expect(await reads.countActiveRuns()).toBe(1);
    expect((await reads.listActiveRuns()).map((r) => r.id)).toEqual([runId]);
    expect(await reads.replayableBatchIndexes(runId)).toEqual([1]);
    expect(await reads.replayableBatchIndexes(runId, [0, 2])).toEqual([]);
  });
});
