import {
  benchEnvironment,
  type BenchResult,
  InProcessRunner,
  InProcessStages,
  inProcessConvention,
  mb,
  now,
  redisMemory,
  round,
  sleep,
} from './common.js';

const BATCHES = Number(process.env.BENCH_SCALE_BATCHES ?? 5000);
const RECORDS_PER_BATCH = 2;
const WINDOW = Math.min(1000, Math.floor(BATCHES / 5));
const TIMEOUT_MS = 200_000;

/**
 * One run of 5,000 batches (two records each, one hook, in-process runner so containers do not
 * dominate): exact counters at the end, time per batch of the last 1,000 against the first
 * 1,000 (from the ledger's publish times), and Redis memory while it runs — INFO used_memory
 * for the server and MEMORY USAGE of every key under the bench's prefix, per queue.
 */
export async function run(): Promise<BenchResult> {
  // A held pull (downstream_lag) retries after 0.5 s instead of the production 60 s: with the
  // default a single hold early in the run stalls it for a minute and the first window measures
  // that stall, not how the pipeline scales (docs/benchmarks.md reports both).
  const env = await benchEnvironment('scale', {});
  const stages = await InProcessStages.start(
    env,
    new InProcessRunner(env.dataDir, { recordsPerBatch: RECORDS_PER_BATCH, totalRecords: BATCHES * RECORDS_PER_BATCH }),
  );
  try {
    await stages.applyConvention(inProcessConvention('bench-scale', 1));
    const before = await redisMemory(env.prefix);
    const started = now();
    const runId = await stages.startRun({ conventionId: 'bench-scale', batchSize: RECORDS_PER_BATCH });
    const samples: Array<{ seconds: number; batchesPublished: number; usedMemoryMb: number; prefixMb: number; prefixKeys: number }> = [];
    let lastSample = 0;
    for (;;) {
      const run = (await env.reads.findRun(runId))!;
      if (now() - lastSample > 10_000 || run.status !== 'running') {
        const memory = await redisMemory(env.prefix);
        samples.push({
          seconds: round((now() - started) / 1000, 1),
          batchesPublished: run.batchesPublished,
          usedMemoryMb: mb(memory.usedMemory),
          prefixMb: mb(memory.prefixBytes),
          prefixKeys: memory.prefixKeys,
        });
        lastSample = now();
      }
      if (run.status !== 'running' && run.status !== 'pending') break;
      if (now() - started > TIMEOUT_MS)
        throw new Error(`scale run did not finish in ${TIMEOUT_MS / 1000} s (${run.batchesPublished}/${BATCHES} batches)`);
      await sleep(250);
    }
    const wallMs = Math.round(now() - started);
    const run = (await env.reads.findRun(runId))!;
    const final = await redisMemory(env.prefix);
    const { rows: counted } = await env.database.pool.query<{ records: string; features: string; published: string }>(
      `SELECT (SELECT count(*) FROM records WHERE run_id = $1) AS records, (SELECT count(*) FROM record_features) AS features,
              (SELECT count(*) FROM ingest_batches WHERE run_id = $1 AND state = 'published') AS published`,
      [runId],
    );
    const expected = {
      status: 'completed',
      batchesIngested: BATCHES,
      batchesPublished: BATCHES,
      batchesFailed: 0,
      publishedCount: BATCHES * RECORDS_PER_BATCH,
      records: BATCHES * RECORDS_PER_BATCH,
      features: BATCHES * RECORDS_PER_BATCH,
      publishedBatches: BATCHES,
    };
    const actual = {
      status: run.status,
      batchesIngested: run.batchesIngested,
      batchesPublished: run.batchesPublished,
      batchesFailed: run.batchesFailed,
      publishedCount: run.publishedCount,
      records: Number(counted[0]!.records),
      features: Number(counted[0]!.features),
      publishedBatches: Number(counted[0]!.published),
    };
    const exact = JSON.stringify(actual) === JSON.stringify(expected);

    // When each batch was published, by batch index (updated_at of the published ledger row).
    const { rows } = await env.database.pool.query<{ batch_index: number; t: string }>(
      `SELECT batch_index, extract(epoch FROM updated_at) * 1000 AS t FROM ingest_batches WHERE run_id = $1 ORDER BY batch_index`,
      [runId],
    );
    const t = rows.map((r) => Number(r.t));
    const perBatch = (from: number) => (t[from + WINDOW - 1]! - t[from]!) / (WINDOW - 1);
    const first = perBatch(0);
    const last = perBatch(BATCHES - WINDOW);
    const drift = last / first - 1;
    const pass = exact && Math.abs(drift) <= 0.1;
    const maxPrefixMb = Math.max(...samples.map((s) => s.prefixMb));
    return {
      name: 'scale',
      ratio: round(last / first),
      target: 'last 1,000 batches ≤ 1.10 × first 1,000; exact counters; Redis bounded by retention',
      pass,
      summary:
        `${BATCHES} batches in ${round(wallMs / 1000, 1)} s, counters ${exact ? 'exact' : 'WRONG'}; ` +
        `${round(first, 2)} ms/batch (first ${WINDOW}) vs ${round(last, 2)} ms/batch (last ${WINDOW}) → ${round(last / first)}×; ` +
        `keys under the prefix peaked at ${maxPrefixMb} MB, ${mb(final.prefixBytes)} MB at the end`,
      details: {
        expected,
        actual,
        deferrals: run.deferrals,
        deferredMs: run.deferredMs,
        msPerBatchFirstWindow: round(first, 2),
        msPerBatchLastWindow: round(last, 2),
        msPerBatchMiddleWindows: [1, 2, 3].filter((k) => (k + 1) * WINDOW <= BATCHES).map((k) => round(perBatch(k * WINDOW), 2)),
        redisBefore: { usedMemoryMb: mb(before.usedMemory), prefixMb: mb(before.prefixBytes) },
        redisSamples: samples,
        redisFinalByQueueMb: Object.fromEntries(Object.entries(final.byQueue).map(([q, b]) => [q, mb(b)])),
      },
    };
  } finally {
    await stages.stop();
    await env.cleanup();
  }
}
