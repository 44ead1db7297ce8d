import { ErrorKind, Stage } from '#osa/domain';
import { RunReadModel } from '#osa/persistence';
import { JobId, QueueName } from '#osa/queues';
import { pagedIngester } from '../support/fake-container-runner.js';
import { MediumPipeline, testConvention } from '../support/medium-pipeline.js';

describe('BackpressureGate', () => {
  let pipeline: MediumPipeline;
  let conventions = 0;

  beforeAll(async () => {
    pipeline = await MediumPipeline.create('medium_gate', {
      MAX_PENDING_BATCHES: '2',
      BREAKER_FAILURE_RATIO: '0.5',
      BREAKER_MIN_BATCHES: '2',
      BREAKER_PAUSE_MS: '600000',
    });
    pipeline.runner.ingester = pagedIngester({ total: 100, pageSize: 2 });
  });
  afterAll(() => pipeline.close());
  beforeEach(() => {
    pipeline.runner.capacityReport = { available: true };
  });

  /** A run with `sourced` batches pulled and still open downstream. */
  async function run(sourced: number): Promise<string> {
    const runId = await pipeline.startRun(testConvention(`gate-${++conventions}`), { batchSize: 2 });
    for (let n = 0; n < sourced; n++) await pipeline.ingester.ingest(pipeline.job(runId, n));
    return runId;
  }

  it('lets the pull go when nothing holds it', async () => {
    const runId = await run(1);
    expect(await pipeline.gate.check(await pipeline.run(runId))).toBeUndefined();
  });

  it('holds for downstream lag once MAX_PENDING_BATCHES batches wait for hooks or publishing', async () => {
    const runId = await run(2);
    expect(await pipeline.gate.check(await pipeline.run(runId))).toEqual({
      signal: 'downstream_lag',
      message: '2 batches of this run wait for hooks or publishing (limit 2)',
    });
  });

  it('holds while the runner reports no capacity, in the scheduler’s words', async () => {
    const runId = await run(0);
    pipeline.runner.capacityReport = { available: false, signal: 'unschedulable', message: '0/3 nodes are available: 3 Insufficient memory' };
    expect(await pipeline.gate.check(await pipeline.run(runId))).toEqual({
      signal: 'unschedulable',
      message: '0/3 nodes are available: 3 Insufficient memory',
    });
    pipeline.runner.capacityReport = { available: false, signal: 'local_slots', message: 'all 4 local slots are busy' };
    expect(await pipeline.gate.check(await pipeline.run(runId))).toMatchObject({ signal: 'local_slots' });
  });

  it('pauses the run with the failure breaker when too many batches failed, and stays paused until the pause ends', async () => {
    const runId = await run(2);
    for (const batchIndex of [0, 1]) {
      await pipeline.exhaustion.accountFinalFailure(Stage.Hooks, { runId, batchIndex }, { kind: ErrorKind.HookExit, reason: 'exit 1', logTail: [] });
    }
    const hold = await pipeline.gate.check(await pipeline.run(runId));
    expect(hold).toMatchObject({ signal: 'failure_breaker', message: expect.stringContaining('2 of the last 2 batches failed') as unknown });
    const paused = await pipeline.run(runId);
    expect(paused.pausedUntil).not.toBeNull();
    expect(await pipeline.gate.check(paused)).toMatchObject({ signal: 'failure_breaker' });
    // Past the pause the gate resumes the run, with the failures so far as its new baseline.
    expect(await pipeline.gate.check(paused, new Date(paused.pausedUntil!.getTime() + 1))).toBeUndefined();
    expect(await pipeline.run(runId)).toMatchObject({ pausedUntil: null });
  });

  it('makes the ingester defer the pull without running a container, recording the wait on the run', async () => {
    const runId = await run(2);
    const ran = pipeline.runner.count('ingester');

    const outcome = await pipeline.ingester.ingest({ data: { runId, batchIndex: 2 }, attempt: pipeline.nextAttempt() });

    expect(outcome).toMatchObject({ outcome: 'deferred', hold: { signal: 'downstream_lag' }, delayMs: pipeline.config.backpressure.lagDelayMs });
    expect(pipeline.runner.count('ingester')).toBe(ran);
    expect(await pipeline.run(runId)).toMatchObject({ deferrals: 1, waitingReason: expect.stringMatching(/^downstream_lag: /) as unknown });
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced', '1:sourced']);
    expect(pipeline.jobIds(QueueName.NextBatch)).toContain(JobId.nextBatch(runId, 2));
  });

  it("keeps the held pull's first deferral on the run across deferrals, then on the batch the pull sourced", async () => {
    const reads = new RunReadModel(pipeline.database.db);
    const runId = await run(0);
    pipeline.runner.capacityReport = { available: false, signal: 'local_slots', message: 'all 1 local slots are busy' };
    const first = await pipeline.ingester.ingest(pipeline.job(runId, 0));
    if (first.outcome !== 'deferred') throw new Error(`expected a deferral, got ${first.outcome}`);
    expect(first.data.heldSince).toBe(first.data.waitingSince);
    expect(await pipeline.run(runId)).toMatchObject({
      pullHeldSince: new Date(first.data.heldSince!),
      backpressureWaitSince: new Date(first.data.heldSince!),
    });

    // The job comes back after its delay carrying its clocks; say the first deferral was 10 minutes ago.
    const tenMinutesAgo = Date.now() - 600_000;
    const aged = { ...first.data, heldSince: tenMinutesAgo, waitingSince: tenMinutesAgo };
    const second = await pipeline.ingester.ingest({ data: aged, attempt: pipeline.nextAttempt() });
    expect(second).toMatchObject({ outcome: 'deferred', data: { heldSince: tenMinutesAgo, waitingSince: tenMinutesAgo, deferrals: 2 } });
    const held = await pipeline.run(runId);
    expect(held).toMatchObject({ deferrals: 2, pullHeldSince: new Date(tenMinutesAgo), backpressureWaitSince: new Date(tenMinutesAgo) });
    // waiting_since restarts at each deferral; the gauge counts from the first one.
    expect(held.waitingSince!.getTime()).toBeGreaterThan(tenMinutesAgo + 500_000);
    expect(await reads.longestBackpressureWaitSeconds()).toBeGreaterThanOrEqual(600);
    expect((await reads.getRun(runId))!.summary.waiting).toMatchObject({ heldSince: new Date(tenMinutesAgo), boundedSince: new Date(tenMinutesAgo) });

    pipeline.runner.capacityReport = { available: true };
    const { data } = second as { data: typeof aged };
    expect(await pipeline.ingester.ingest({ data, attempt: pipeline.nextAttempt() })).toMatchObject({ outcome: 'sourced' });
    expect(await pipeline.run(runId)).toMatchObject({ waitingReason: null, waitingSince: null, pullHeldSince: null, backpressureWaitSince: null });
    const [batch] = (await reads.listBatches(runId)).items;
    expect(batch).toMatchObject({ batchIndex: 0, state: 'sourced', waitedFrom: new Date(tenMinutesAgo) });
    expect(batch!.sourcedAt!.getTime()).toBeGreaterThan(tenMinutesAgo);
    expect(await reads.longestBackpressureWaitSeconds()).toBeLessThan(600);
    // A pull that was never held records no wait.
    await pipeline.ingester.ingest(pipeline.job(runId, 1));
    expect((await reads.listBatches(runId)).items[1]).toMatchObject({ batchIndex: 1, waitedFrom: null });
  });

  it('does not count a pull held only by the failure breaker as a bounded wait', async () => {
    const runId = await run(2);
    for (const batchIndex of [0, 1]) {
      await pipeline.exhaustion.accountFinalFailure(Stage.Hooks, { runId, batchIndex }, { kind: ErrorKind.HookExit, reason: 'exit 1', logTail: [] });
    }
    const outcome = await pipeline.ingester.ingest(pipeline.job(runId, 2));
    expect(outcome).toMatchObject({ outcome: 'deferred', hold: { signal: 'failure_breaker' } });
    expect((outcome as { data: { waitingSince?: number } }).data.waitingSince).toBeUndefined();
    const held = await pipeline.run(runId);
    expect(held.pullHeldSince).not.toBeNull();
    expect(held.backpressureWaitSince).toBeNull();
  });

  it('fails the ingestion with kind backpressure once a pull has waited past BACKPRESSURE_MAX_WAIT_MS; sourced batches go on', async () => {
    const runId = await run(2);
    const waitingSince = Date.now() - pipeline.config.backpressure.maxWaitMs - 1000;

    const outcome = await pipeline.ingester.ingest({ data: { runId, batchIndex: 2, waitingSince }, attempt: pipeline.nextAttempt() });

    expect(outcome).toMatchObject({ outcome: 'backpressure-exhausted', hold: { signal: 'downstream_lag' } });
    expect(await pipeline.batchStates(runId)).toEqual(['0:sourced', '1:sourced', '2:failed']);
    expect(await pipeline.run(runId)).toMatchObject({
      status: 'running',
      ingestionFinished: true,
      failureKind: ErrorKind.Backpressure,
      failureReason: expect.stringMatching(/^ingestion stopped by backpressure after waiting \d+s for downstream_lag: /) as unknown,
    });
  });
});
