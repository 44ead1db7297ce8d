import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErrorKind } from '#osa/domain';
import { StageMetrics } from '#osa/observability';
import { K8sApiSimulator, waitFor } from '#osa/testing';
import { countingConvention, fixture, PipelineHarness, REPO_ROOT } from '../support/pipeline-harness.js';

const FAST = { BACKPRESSURE_DELAY_MS: '50' };

/** Backpressure: exact, bounded and visible. */
describe('backpressure', () => {
  const harnesses: PipelineHarness[] = [];
  const start = async (label: string, env: Record<string, string>) => {
    const harness = await PipelineHarness.start(label, { ...FAST, ...env });
    harnesses.push(harness);
    return harness;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.stop();
  });

  const run = async (harness: PipelineHarness, conventionId: string) => harness.runIdOf(await harness.startIngest({ conventionId }));
  const current = (harness: PipelineHarness, runId: string) => harness.reads.findRun(runId).then((r) => r!);

  it('pauses the ingester while the only local slot is busy with slow hooks, then completes with exact counts', async () => {
    const harness = await start('bp-slots', { LOCAL_RUNNER_SLOTS: '1', MAX_PENDING_BATCHES: '0' });
    await harness.applyConvention(countingConvention('slots', { total: 50, page_size: 10 }, [{ name: 'flag', config: { sleep_ms: 400 } }]));
    const runId = await run(harness, 'slots');
    await waitFor('a deferral for local_slots', async () => (await current(harness, runId)).waitingReason?.startsWith('local_slots'));
    const done = await harness.waitForRun(runId);
    expect(done).toMatchObject({ status: 'completed', batchesIngested: 5, batchesPublished: 5, publishedCount: 50, waitingReason: null });
    expect(done.deferrals).toBeGreaterThan(0);
    expect(done.deferredMs).toBeGreaterThan(0);
    expect(done.deferredMs).toBeLessThanOrEqual(done.completedAt!.getTime() - done.createdAt.getTime());
    const metrics = await harness.get('ingester', StageMetrics).metrics();
    expect(metrics).toMatch(new RegExp(`osa_backpressure_deferrals_total\\{[^}]*signal="local_slots"[^}]*\\} ${done.deferrals}\\b`));
    expect(metrics).toMatch(/osa_backpressure_max_wait_seconds\{[^}]*\} 3600\b/);
    // Each held pull's wait is kept on the batch it sourced, ending when the batch was sourced.
    const held = (await harness.reads.listBatches(runId)).items.filter((b) => b.waitedFrom !== null);
    expect(held.length).toBeGreaterThan(0);
    for (const b of held) expect(b.waitedFrom!.getTime()).toBeLessThanOrEqual(b.sourcedAt!.getTime());
  });

  it('never lets more than one batch wait downstream with a lag limit of 1', async () => {
    const harness = await start('bp-lag', { MAX_PENDING_BATCHES: '1' });
    await harness.applyConvention(countingConvention('lag', { total: 40, page_size: 10 }, [{ name: 'flag', config: { sleep_ms: 150 } }]));
    const done = await harness.waitForRun(await run(harness, 'lag'));
    expect(done).toMatchObject({ status: 'completed', batchesPublished: 4, publishedCount: 40 });
    const batches = await harness.reads.batchRows(done.id);
    // Each batch was sourced only after the one before it was published.
    for (let i = 1; i < batches.length; i++) {
      expect(batches[i]!.createdAt.getTime()).toBeGreaterThanOrEqual(batches[i - 1]!.updatedAt.getTime());
    }
    expect(done.deferrals).toBeGreaterThan(0);
  });

  it('counts the time the pull actually waited, not the delay each deferral planned (a published batch wakes it early)', async () => {
    // Each deferral plans 5 s, but every published batch wakes the held pull at once.
    const harness = await start('bp-waited', { MAX_PENDING_BATCHES: '1', BACKPRESSURE_LAG_DELAY_MS: '5000' });
    await harness.applyConvention(countingConvention('waited', { total: 40, page_size: 10 }, [{ name: 'flag', config: { sleep_ms: 150 } }]));
    const done = await harness.waitForRun(await run(harness, 'waited'));
    expect(done).toMatchObject({ status: 'completed', batchesPublished: 4, publishedCount: 40, waitingReason: null });
    expect(done.deferrals).toBeGreaterThan(0);
    expect(done.deferredMs).toBeGreaterThan(0);
    expect(done.deferredMs).toBeLessThanOrEqual(done.completedAt!.getTime() - done.createdAt.getTime());
    expect(done.waitingSince).toBeNull();
  });

  it('fails the ingestion with the backpressure reason after the maximum wait, and the run still completes', async () => {
    const harness = await start('bp-maxwait', { MAX_PENDING_BATCHES: '1', BACKPRESSURE_MAX_WAIT_MS: '300' });
    await harness.applyConvention(countingConvention('maxwait', { total: 40, page_size: 10 }, [{ name: 'flag', config: { sleep_ms: 1500 } }]));
    const done = await harness.waitForRun(await run(harness, 'maxwait'));
    expect(done).toMatchObject({
      status: 'completed',
      ingestionFinished: true,
      batchesIngested: 2,
      batchesPublished: 1,
      batchesFailed: 1,
      publishedCount: 10,
      failureKind: ErrorKind.Backpressure,
    });
    expect(done.failureReason).toMatch(/^ingestion stopped by backpressure after waiting \d+s for downstream_lag: 1 batches of this run wait/);
    // The ingestion ended while waiting: that wait is counted and closed.
    expect(done.deferredMs).toBeGreaterThan(0);
    expect(done.deferredMs).toBeLessThanOrEqual(done.completedAt!.getTime() - done.createdAt.getTime());
    expect(done).toMatchObject({ waitingReason: null, waitingSince: null });
  });

  it('trips the failure breaker, pauses pulling, and resumes when an operator says so', async () => {
    const harness = await start('bp-breaker', {
      MAX_PENDING_BATCHES: '1',
      BREAKER_FAILURE_RATIO: '1',
      BREAKER_MIN_BATCHES: '2',
      BREAKER_PAUSE_MS: '600000',
    });
    await harness.applyConvention(countingConvention('breaker', { total: 40, page_size: 10 }, [{ name: 'broken', config: { exit_code: 5 } }]));
    const runId = await run(harness, 'breaker');
    const paused = await waitFor('the breaker to trip', async () => {
      const r = await current(harness, runId);
      return r.pausedUntil && r.waitingReason?.startsWith('failure_breaker') ? r : undefined;
    });
    expect(paused).toMatchObject({ batchesIngested: 2, batchesFailed: 2, status: 'running' });
    expect(paused.pauseReason).toContain('2 of the last 2 batches failed (breaker at 100%)');
    // Still paused a while later: nothing more was pulled.
    const deferralsSoFar = paused.deferrals;
    await waitFor('more deferrals while paused', async () => (await current(harness, runId)).deferrals > deferralsSoFar + 2);
    expect((await current(harness, runId)).batchesIngested).toBe(2);

    await harness.ledger.resume(runId);
    const done = await harness.waitForRun(runId);
    expect(done).toMatchObject({ status: 'completed', batchesIngested: 4, batchesFailed: 4, pausedUntil: null });
  });

  describe('on Kubernetes (API simulator)', () => {
    let simulator: K8sApiSimulator;
    let harness: PipelineHarness;
    const INGESTER = 'registry.example/osa/counting-ingester:1';
    const HOOK = 'registry.example/osa/flag-hook:1';

    beforeAll(async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'osa-bp-k8s-'));
      simulator = await K8sApiSimulator.start({ dataRoot: dataDir, cwd: REPO_ROOT, memorySampleIntervalMs: 20 });
      simulator.mapImage(INGESTER, ['node', fixture('counting-ingester.mjs')]);
      simulator.mapImage(HOOK, ['node', fixture('flag-hook.mjs')]);
      harness = await start('bp-k8s', {
        RUNNER: 'kubernetes',
        DATA_DIR: dataDir,
        K8S_API_SERVER: simulator.url,
        K8S_POLL_INTERVAL_MS: '20',
        MAX_PENDING_BATCHES: '0',
      });
    });
    afterAll(() => simulator.close());

    const convention = (id: string) => ({
      id,
      ingester: { image: INGESTER, command: ['unused'], config: { total: 40, page_size: 10, sleep_ms: 250 } },
      hooks: [{ name: 'flag', image: HOOK, command: ['unused'] }],
    });

    it('defers pulls while a pod of ours is Unschedulable, quoting the scheduler', async () => {
      const message = '0/3 nodes are available: 3 Insufficient memory.';
      simulator.injectPodFault({ type: 'unschedulable', message, untilMs: 1500 }, { image: HOOK, times: 1 });
      await harness.applyConvention(convention('k8s-unschedulable'));
      const runId = await run(harness, 'k8s-unschedulable');
      await waitFor('a deferral for unschedulable', async () => (await current(harness, runId)).waitingReason === `unschedulable: ${message}`);
      const done = await harness.waitForRun(runId);
      expect(done).toMatchObject({ status: 'completed', batchesPublished: 4, publishedCount: 40, batchesFailed: 0 });
      expect(done.deferrals).toBeGreaterThan(0);
    });

    it('does not defer for a pod that is Pending only because its image is being pulled', async () => {
      simulator.injectPodFault({ type: 'image-pull', message: 'pull access denied' }, { image: HOOK, times: 1 });
      await harness.applyConvention(convention('k8s-pulling'));
      const done = await harness.waitForRun(await run(harness, 'k8s-pulling'));
      expect(done).toMatchObject({ status: 'completed', deferrals: 0, batchesFailed: 1, failureKind: ErrorKind.ImagePull });
    });
  });
});
