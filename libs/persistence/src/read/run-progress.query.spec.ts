import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { validateConvention } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { ConventionRepository } from '../repositories/convention.repository.js';
import { RunLedger } from '../repositories/run-ledger.js';
import { longestBackpressureWaitSeconds, longestRunStallSeconds } from './run-progress.query.js';

/** What the stuck-run alert reads: the ledger's last progress of the stalest active run. */
describe(longestRunStallSeconds.name, () => {
  let database: TestDatabase;
  let ledger: RunLedger;

  beforeAll(async () => {
    database = await createTestDatabase('run_progress');
    ledger = new RunLedger(database.db);
  });
  afterAll(() => database.drop());

  async function startRun(conventionId: string): Promise<string> {
    const convention = validateConvention({ id: conventionId, ingester: { command: ['true'] } });
    await new ConventionRepository().upsert(database.db, convention);
    const runId = randomUUID();
    await ledger.createRun({ id: runId, conventionId, startJobId: `start-${runId}`, convention, batchSize: 10, recordLimit: null });
    await ledger.markRunning(runId);
    return runId;
  }
  /** Moves the run's and its batches' clocks back, as if `seconds` had passed since each was written. */
  const age = async (runId: string, seconds: number) => {
    await database.db.execute(
      sql`UPDATE ingest_runs SET created_at = created_at - make_interval(secs => ${seconds}), started_at = started_at - make_interval(secs => ${seconds}), updated_at = updated_at - make_interval(secs => ${seconds}) WHERE id = ${runId}`,
    );
    await database.db.execute(sql`UPDATE ingest_batches SET updated_at = updated_at - make_interval(secs => ${seconds}) WHERE run_id = ${runId}`);
  };
  const stall = () => longestRunStallSeconds(database.db);

  it('is 0 without an active run, then the time since the start of a run that has moved no batch', async () => {
    expect(await stall()).toBe(0);
    const runId = await startRun('progress-a');
    await age(runId, 120);
    expect(await stall()).toBeGreaterThanOrEqual(120);
    expect(await stall()).toBeLessThan(130);
  });

  it('counts from the last batch transition; a deferral is not progress; the stalest active run wins; ended runs do not count', async () => {
    const a = (await database.db.execute<{ id: string }>(sql`SELECT id FROM ingest_runs WHERE convention_id = 'progress-a'`)).rows[0]!.id;
    await ledger.recordSourced({
      runId: a,
      batchIndex: 0,
      ingesterAttempt: 1,
      recordCount: 1,
      invalidCount: 0,
      hasMore: true,
      nextSession: {},
      finishIngestion: false,
    });
    await age(a, 30);
    expect(Math.round(await stall())).toBe(30);
    await ledger.recordDeferral(a, 'downstream_lag: 8 batches wait', { heldSince: new Date(), boundedSince: new Date() });
    expect(Math.round(await stall())).toBe(30);

    const b = await startRun('progress-b');
    await age(b, 200);
    expect(Math.round(await stall())).toBe(200);
    await database.db.execute(sql`UPDATE ingest_runs SET status = 'completed' WHERE id = ${b}`);
    expect(Math.round(await stall())).toBe(30);
  });
});

/** What the backpressure-wait alert reads: the longest current wait from its pull's first deferral. */
describe(longestBackpressureWaitSeconds.name, () => {
  let database: TestDatabase;
  let ledger: RunLedger;

  beforeAll(async () => {
    database = await createTestDatabase('backpressure_wait');
    ledger = new RunLedger(database.db);
  });
  afterAll(() => database.drop());

  async function startRun(conventionId: string): Promise<string> {
    const convention = validateConvention({ id: conventionId, ingester: { command: ['true'] } });
    await new ConventionRepository().upsert(database.db, convention);
    const runId = randomUUID();
    await ledger.createRun({ id: runId, conventionId, startJobId: `start-${runId}`, convention, batchSize: 10, recordLimit: null });
    return runId;
  }
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
  const wait = async () => Math.round((await longestBackpressureWaitSeconds(database.db)) / 60);

  it('counts the longest bounded wait from its first deferral, not the latest; the breaker alone, an ended wait or run do not count', async () => {
    expect(await wait()).toBe(0);
    const a = await startRun('wait-a');
    await ledger.recordDeferral(a, 'failure_breaker: paused', { heldSince: minutesAgo(50) });
    expect(await wait()).toBe(0);
    // The breaker held first; a later signal starts the bounded wait.
    await ledger.recordDeferral(a, 'downstream_lag: 8 batches wait', { heldSince: minutesAgo(50), boundedSince: minutesAgo(20) });
    expect(await wait()).toBe(20);

    const b = await startRun('wait-b');
    await ledger.recordDeferral(b, 'local_slots: busy', { heldSince: minutesAgo(40), boundedSince: minutesAgo(40) });
    expect(await wait()).toBe(40);
    await ledger.clearWaiting(b);
    expect(await wait()).toBe(20);
    await database.db.execute(sql`UPDATE ingest_runs SET status = 'completed' WHERE id = ${a}`);
    expect(await wait()).toBe(0);
  });
});
