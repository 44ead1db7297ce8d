import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { QueueName, redisConnection } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { fixture } from '../support/pipeline-harness.js';
import { buildServices, ProcessHarness, type ServiceName } from '../support/process-harness.js';

const TOTAL = 60;
const PAGE = 10;
const REJECT_EVERY = 7;
const REJECTED = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => i % REJECT_EVERY === 0).length;

/**
 * The stages as separate OS processes; one is killed in the middle of a batch and restarted.
 * Every run must end completed with exact counters, no duplicate records and exactly one
 * IngestCompleted. These are the reports of peers: runs hung in Running when a worker or pod
 * vanished (argo-workflows #13152), final-failure callbacks that never fired after a kill
 * (airflow #25297, #70585; covered with the lost-accounting test in failures.e2e.spec.ts), and a
 * second copy of a job started after a crash (bullmq #1130: deterministic job ids and the ledger).
 */
describe('crash recovery with real processes', () => {
  let harness: ProcessHarness;

  beforeAll(async () => {
    buildServices();
    harness = await ProcessHarness.start('crash');
  }, 120_000);
  afterAll(() => harness.stop());

  const convention = (id: string, ingesterSleep: number, hookSleep: number) => ({
    id,
    ingester: {
      command: ['node', fixture('counting-ingester.mjs')],
      config: { total: TOTAL, page_size: PAGE, reject_every: REJECT_EVERY, sleep_ms: ingesterSleep, marker_dir: harness.markerDir },
    },
    hooks: [{ name: 'flag', command: ['node', fixture('flag-hook.mjs')], config: { sleep_ms: hookSleep, marker_dir: harness.markerDir } }],
  });

  async function expectExactlyOnce(runId: string) {
    const run = await harness.waitForRun(runId);
    expect(run).toMatchObject({
      status: 'completed',
      batchesIngested: TOTAL / PAGE,
      batchesPublished: TOTAL / PAGE,
      batchesFailed: 0,
      recordsSourced: TOTAL,
      publishedCount: TOTAL - REJECTED,
      rejectedCount: REJECTED,
    });
    const { rows } = await harness.database.pool.query<{ n: number; distinct_sources: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT source_id)::int AS distinct_sources FROM records WHERE run_id = $1',
      [runId],
    );
    expect(rows[0]).toEqual({ n: TOTAL - REJECTED, distinct_sources: TOTAL - REJECTED });
    const events = await harness.reads.listEvents(runId);
    expect(events.filter((e) => e.type === 'IngestCompleted')).toHaveLength(1);
    const eventsQueue = harness.queues[QueueName.Events]!;
    await waitFor('IngestCompleted on ingest-events', () => eventsQueue.getJob(`run-completed-${runId}`));
  }

  it.each<[ServiceName, string]>([
    ['ingester-runner', 'ingester'],
    ['hook-runner', 'hook'],
  ])(
    'recovers when %s is SIGKILLed in the middle of a batch',
    async (service, role) => {
      const id = `crash-${service}`;
      await harness.applyConvention(convention(id, 300, 300));
      harness.startAll();
      const runId = await harness.start(id);
      await harness.waitForMarker(`${role}-${runId}-2-`);
      await harness.kill(service, 'SIGKILL');
      harness.startService(service);
      await expectExactlyOnce(runId);
      await Promise.all((['ingester-runner', 'hook-runner', 'publisher'] as const).map((s) => harness.kill(s)));
    },
    120_000,
  );

  it('recovers when the publisher is SIGKILLed while publishing', async () => {
    const id = 'crash-publisher';
    await harness.applyConvention(convention(id, 100, 50));
    harness.startAll();
    const runId = await harness.start(id);
    await waitFor('a first published batch', async () => (await harness.reads.findRun(runId))!.batchesPublished >= 1);
    await harness.kill('publisher', 'SIGKILL');
    harness.startService('publisher');
    await expectExactlyOnce(runId);
    await Promise.all((['ingester-runner', 'hook-runner', 'publisher'] as const).map((s) => harness.kill(s)));
  }, 120_000);

  it('loses nothing when a stage gets SIGTERM in the middle of a batch', async () => {
    const id = 'sigterm-hooks';
    await harness.applyConvention(convention(id, 100, 600));
    harness.startAll();
    const runId = await harness.start(id);
    await harness.waitForMarker(`hook-${runId}-1-`);
    await harness.kill('hook-runner', 'SIGTERM');
    // The graceful stop let the active hook run finish and commit before exiting.
    const batch1 = await harness.reads.findBatch(runId, 1);
    expect(['hooked', 'published']).toContain(batch1?.state);
    harness.startService('hook-runner');
    await expectExactlyOnce(runId);
    await Promise.all((['ingester-runner', 'hook-runner', 'publisher'] as const).map((s) => harness.kill(s)));
  }, 120_000);

  it('resumes a hook from its checkpoint after the hook-runner is killed in the middle of an OOM retry', async () => {
    const log = path.join(harness.markerDir, 'checkpoint-hog.log');
    const lines = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    await harness.applyConvention({
      id: 'crash-hook-checkpoint',
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 10, page_size: 10, size_mb_by_index: { 3: 150, 9: 200 } } },
      hooks: [
        {
          name: 'hog',
          command: ['node', fixture('size-hog.mjs')],
          config: { log_file: log, per_record_ms: 300 },
          limits: { memory: '128m', timeout_seconds: 60 },
        },
      ],
    });
    harness.startAll();
    const runId = await harness.start('crash-hook-checkpoint');
    // 128m: records 0, 1, 2 finish, then 3 is killed for memory and the three are checkpointed;
    // the 256m retry has finished two more when the hook-runner is killed.
    await waitFor('the OOM retry to be under way', async () => (await lines()).length >= 5);
    await harness.kill('hook-runner', 'SIGKILL');
    harness.startService('hook-runner');
    const run = await harness.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', publishedCount: 10, batchesFailed: 0 });
    const processed = await lines();
    for (const id of ['rec-000000', 'rec-000001', 'rec-000002']) expect(processed.filter((l) => l === id)).toHaveLength(1);
    expect(new Set(processed).size).toBe(10);
    await Promise.all((['ingester-runner', 'hook-runner', 'publisher'] as const).map((s) => harness.kill(s)));
  }, 120_000);

  it('re-adds a next-batch job that vanished from Redis (the reconciler)', async () => {
    const id = 'vanished-job';
    await harness.applyConvention(convention(id, 200, 0));
    harness.startService('hook-runner');
    harness.startService('publisher');
    const queue = new Queue(QueueName.NextBatch, { connection: redisConnection(harness.config.redisUrl), prefix: harness.config.queuePrefix });
    try {
      harness.startService('ingester-runner');
      const runId = await harness.start(id);
      await harness.waitForMarker(`ingester-${runId}-1-`);
      await harness.kill('ingester-runner', 'SIGKILL');
      // Lose every queued next-batch job, as a flushed or failed-over Redis would.
      await queue.obliterate({ force: true });
      harness.startService('ingester-runner');
      await expectExactlyOnce(runId);
    } finally {
      await queue.close();
      await Promise.all((['ingester-runner', 'hook-runner', 'publisher'] as const).map((s) => harness.kill(s)));
    }
  }, 120_000);
});
