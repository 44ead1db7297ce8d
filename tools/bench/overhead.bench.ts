import { Queue, Worker } from 'bullmq';
import { QueueName, RETENTION, redisConnection } from '#osa/queues';
import {
  benchEnvironment,
  type BenchResult,
  BatchTimer,
  InProcessRunner,
  InProcessStages,
  inProcessConvention,
  round,
  until,
  waitForRun,
} from './common.js';

const BATCHES = Number(process.env.BENCH_OVERHEAD_BATCHES ?? 1000);
/** Spawning a node process per batch costs ~50 ms; fewer batches keep the bench short. */
const SPAWN_BATCHES = Number(process.env.BENCH_OVERHEAD_SPAWN_BATCHES ?? 200);
const TIMEOUT_MS = 100_000;

type Stats = ReturnType<BatchTimer['stats']>;
/** A floor job: the batch it stands for. */
interface FloorJob {
  n: number;
}

/**
 * Per-batch orchestration overhead: batches of one record through all three stages (zero hooks,
 * so the hook stage still reads, merges and accounts each batch), against a raw chain of three
 * BullMQ queues with one Postgres statement per hop and the same concurrency.
 */
export async function run(): Promise<BenchResult> {
  const floor = await rawChain(BATCHES);
  const inProcess = await pipeline(BATCHES, 'in-process', 0);
  const inProcessHook = await pipeline(Math.min(BATCHES, 500), 'in-process', 1);
  const spawned = await pipeline(SPAWN_BATCHES, 'process', 0);
  const ratio = inProcess.msPerBatch / floor.msPerBatch;
  return {
    name: 'overhead',
    ratio: round(ratio),
    target: '≤ 3 × floor',
    pass: ratio <= 3,
    summary:
      `${inProcess.msPerBatch} ms/batch (p50 ${inProcess.p50Ms}, p95 ${inProcess.p95Ms}) through the stages with an in-process no-op runner ` +
      `vs ${floor.msPerBatch} ms/batch (p50 ${floor.p50Ms}, p95 ${floor.p95Ms}) for the raw 3-queue chain → ${round(ratio)}× ` +
      `(p50 ${round(inProcess.p50Ms / floor.p50Ms)}×); with spawned processes ${spawned.msPerBatch} ms/batch`,
    details: {
      floorRawChain: floor,
      pipelineInProcessNoHooks: inProcess,
      pipelineInProcessOneHook: inProcessHook,
      pipelineSpawnedIngesterNoHooks: spawned,
      p50Ratio: round(inProcess.p50Ms / floor.p50Ms),
      p95Ratio: round(inProcess.p95Ms / floor.p95Ms),
      oneHookRatio: round(inProcessHook.msPerBatch / floor.msPerBatch),
      spawnedRatio: round(spawned.msPerBatch / floor.msPerBatch),
    },
  };
}

/** The tiny ingester for the spawned variant: one record per batch and a session while more remain. */
const TINY_INGESTER = `
const fs = require('fs'), path = require('path'), e = process.env;
const cfg = JSON.parse(fs.readFileSync(path.join(e.OSA_IN, 'config.json'), 'utf8'));
const sf = path.join(e.OSA_IN, 'session.json');
const offset = fs.existsSync(sf) ? JSON.parse(fs.readFileSync(sf, 'utf8')).offset : 0;
fs.writeFileSync(path.join(e.OSA_OUT, 'records.jsonl'), JSON.stringify({ source_id: 'rec-' + offset, metadata: { n: offset }, files: [] }) + '\\n');
if (offset + 1 < cfg.total) fs.writeFileSync(path.join(e.OSA_OUT, 'session.json'), JSON.stringify({ offset: offset + 1 }));
`;

async function pipeline(batches: number, runner: 'in-process' | 'process', hooks: number): Promise<Stats> {
  const env = await benchEnvironment(`overhead_${runner.replace('-', '_')}_${hooks}`);
  const stages = await InProcessStages.start(
    env,
    runner === 'in-process' ? new InProcessRunner(env.dataDir, { recordsPerBatch: 1, totalRecords: batches }) : undefined,
  );
  let timer: BatchTimer | undefined;
  try {
    const convention =
      runner === 'in-process'
        ? inProcessConvention('bench-overhead', hooks)
        : {
            id: 'bench-overhead',
            ingester: { command: ['node', '-e', TINY_INGESTER], config: { total: batches }, limits: { timeout_seconds: 60, memory: '256m' } },
            hooks: [],
          };
    await stages.applyConvention(convention);
    // Job ids (JobId.nextBatch / hooksCompleted) end with the batch index; this bench's queues hold one run.
    timer = await BatchTimer.open({ redisUrl: env.config.redisUrl, prefix: env.prefix }, QueueName.NextBatch, QueueName.HooksCompleted, (jobId) => {
      const m = /-(\d+)$/.exec(jobId);
      return m ? Number(m[1]) : undefined;
    });
    const runId = await stages.startRun({ conventionId: 'bench-overhead', batchSize: 1 });
    const run = await waitForRun(env, runId, TIMEOUT_MS, 50);
    if (run.status !== 'completed' || run.batchesPublished !== batches || run.publishedCount !== batches) {
      throw new Error(
        `overhead run ended ${run.status} with ${run.batchesPublished}/${batches} batches, ${run.publishedCount} published: ${run.failureReason ?? ''}`,
      );
    }
    await until('the last completion event', () => timer!.finished.size >= batches, 5000);
    return timer.stats(batches);
  } finally {
    await timer?.close();
    await stages.stop();
    await env.cleanup();
  }
}

/**
 * The floor: three BullMQ queues chained like the stages (the first re-adds itself for the next
 * batch once it has done its step, as the ingester does), each hop one Postgres statement, the
 * same concurrency and job options as the pipeline's.
 */
async function rawChain(batches: number): Promise<Stats> {
  const env = await benchEnvironment('overhead_floor');
  const connection = redisConnection(env.config.redisUrl);
  const prefix = env.prefix;
  const pool = env.database.pool;
  await pool.query(
    'CREATE TABLE floor_batches (run_id uuid NOT NULL, batch_index int NOT NULL, state text NOT NULL, PRIMARY KEY (run_id, batch_index))',
  );
  const runId = '00000000-0000-4000-8000-000000000001';
  const names = { a: 'floor-a', b: 'floor-b', c: 'floor-c' };
  const queues = {
    a: new Queue(names.a, { connection, prefix }),
    b: new Queue(names.b, { connection, prefix }),
    c: new Queue(names.c, { connection, prefix }),
  };
  const opts = (id: string) => ({ jobId: id, attempts: 1, ...RETENTION });
  const concurrency = (stage: 'ingester' | 'hooks' | 'publisher') => env.config.stages[stage].concurrency;
  const workers = [
    new Worker<FloorJob>(
      names.a,
      async (job) => {
        const n = job.data.n;
        await pool.query("INSERT INTO floor_batches VALUES ($1, $2, 'sourced') ON CONFLICT DO NOTHING", [runId, n]);
        await queues.b.add('b', { n }, opts(`b-${n}`));
        if (n + 1 < batches) await queues.a.add('a', { n: n + 1 }, opts(`a-${n + 1}`));
      },
      { connection, prefix, concurrency: concurrency('ingester') },
    ),
    new Worker<FloorJob>(
      names.b,
      async (job) => {
        await pool.query("UPDATE floor_batches SET state = 'hooked' WHERE run_id = $1 AND batch_index = $2 AND state = 'sourced'", [
          runId,
          job.data.n,
        ]);
        await queues.c.add('c', { n: job.data.n }, opts(`c-${job.data.n}`));
      },
      { connection, prefix, concurrency: concurrency('hooks') },
    ),
    new Worker<FloorJob>(
      names.c,
      async (job) => {
        await pool.query("UPDATE floor_batches SET state = 'published' WHERE run_id = $1 AND batch_index = $2 AND state = 'hooked'", [
          runId,
          job.data.n,
        ]);
      },
      { connection, prefix, concurrency: concurrency('publisher') },
    ),
  ];
  const timer = await BatchTimer.open({ redisUrl: env.config.redisUrl, prefix }, names.a, names.c, (id) => Number(id.slice(2)));
  try {
    await queues.a.add('a', { n: 0 }, opts('a-0'));
    await until('the raw chain', () => timer.finished.size >= batches, TIMEOUT_MS, 50);
    const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM floor_batches WHERE state = 'published'");
    if (Number(rows[0]!.n) !== batches) throw new Error(`raw chain published ${rows[0]!.n}/${batches}`);
    return timer.stats(batches);
  } finally {
    await timer.close();
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(Object.values(queues).map((q) => q.close()));
    await env.cleanup();
  }
}
