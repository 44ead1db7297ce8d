import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { validateConvention } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { ConventionRepository } from '../repositories/convention.repository.js';
import { RunLedger } from '../repositories/run-ledger.js';
import { longestRunStallSeconds } from './run-progress.query.js';

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
    await ledger.recordDeferral(a, 'downstream_lag: 8 batches wait');
    expect(Math.round(await stall())).toBe(30);

    const b = await startRun('progress-b');
    await age(b, 200);
    expect(Math.round(await stall())).toBe(200);
    await database.db.execute(sql`UPDATE ingest_runs SET status = 'completed' WHERE id = ${b}`);
    expect(Math.round(await stall())).toBe(30);
  });
});
