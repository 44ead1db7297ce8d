import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { validateConvention } from '#osa/domain';
import { ConventionRepository } from '#osa/persistence';
import { QueueName, redisConnection } from '#osa/queues';
import { BatchLayout } from '#osa/storage';
import { stopService, type ServiceProcess } from '../demo/service-processes.js';
import { benchEnvironment, benchFixture, type BenchResult, mb, now, REPO_ROOT, round, until, waitForRun } from './common.js';
import { processMemory, STAGE_SERVICES, startStageServices } from './stage-services.js';

const SIZES = (process.env.BENCH_MEMORY_SIZES ?? '100000,500000').split(',').map(Number);
const LIMIT_MB = 256;

/**
 * Peak RSS of each stage's own process (the built services, as in production) while one batch
 * of N records goes through it: the ingester normalizing ~0.4 KB records, the hook runner
 * running one streaming hook and merging, the publisher publishing. Containers are separate
 * processes and are not counted (the hook's and ingester's memory is their own limit).
 */
export async function run(): Promise<BenchResult> {
  const runs = [];
  for (const size of SIZES) runs.push(await measure(size));
  const largest = runs[runs.length - 1]!;
  const smallest = runs[0]!;
  const worst = Math.max(...runs.flatMap((r) => Object.values(r.peakRssMb)));
  const worstLargest = Math.max(...Object.values(largest.peakRssMb));
  const growth = Object.fromEntries(STAGE_SERVICES.map((s) => [s, round(largest.peakRssMb[s]! - smallest.peakRssMb[s]!, 1)]));
  return {
    name: 'memory',
    ratio: round(worstLargest / LIMIT_MB),
    target: `≤ ${LIMIT_MB} MB per stage (ratio to ${LIMIT_MB} MB ≤ 1), flat as the batch grows`,
    pass: worst <= LIMIT_MB,
    summary: runs
      .map((r) => `${r.records} records (${r.jsonlMb} MB): ${STAGE_SERVICES.map((s) => `${s} ${r.peakRssMb[s]} MB`).join(', ')}`)
      .join('; '),
    details: { runs, growthMbFromSmallestToLargest: growth },
  };
}

async function measure(records: number) {
  const env = await benchEnvironment(`memory_${records}`);
  const services: ServiceProcess[] = [];
  const start = new Queue(QueueName.StartIngest, { connection: redisConnection(env.config.redisUrl), prefix: env.prefix });
  try {
    await new ConventionRepository().upsert(
      env.database.db,
      validateConvention({
        id: 'bench-memory',
        ingester: {
          command: ['node', benchFixture('bulk-ingester.mjs')],
          config: { total: records },
          limits: { timeout_seconds: 600, memory: '2g' },
        },
        hooks: [
          { name: 'flag', command: ['node', path.join(REPO_ROOT, 'test/fixtures/flag-hook.mjs')], limits: { timeout_seconds: 600, memory: '2g' } },
        ],
      }),
    );
    await startStageServices(env, services);
    const idle = Object.fromEntries(
      await Promise.all(services.map(async (s): Promise<[string, number]> => [s.name, mb((await processMemory(s.child.pid!)).VmRSS)])),
    );
    const started = now();
    await start.add('start-ingest', { conventionId: 'bench-memory', batchSize: records }, { attempts: 1 });
    const runId = await until(
      'the run to be created',
      async () => (await env.database.pool.query<{ id: string }>('SELECT id FROM ingest_runs')).rows[0]?.id,
      30_000,
    );
    const run = await waitForRun(env, runId, 150_000, 200);
    const wallMs = Math.round(now() - started);
    if (run.status !== 'completed' || run.publishedCount !== records)
      throw new Error(`memory run ended ${run.status} with ${run.publishedCount}/${records} published: ${run.failureReason ?? ''}`);
    const peakRssMb = Object.fromEntries(
      await Promise.all(services.map(async (s): Promise<[string, number]> => [s.name, mb((await processMemory(s.child.pid!)).VmHWM)])),
    );
    // Attempts are numbered per start by the database: the batch row says which one committed.
    const batch = await env.reads.findBatch(runId, 0);
    const batchFile = path.join(env.dataDir, BatchLayout.batchFile(runId, 0, batch?.ingesterAttempt ?? 1));
    const jsonlMb = mb((await stat(batchFile).catch(() => ({ size: NaN }))).size);
    return { records, jsonlMb, wallMs, idleRssMb: idle, peakRssMb };
  } finally {
    for (const service of services) await stopService(service);
    await start.close();
    await env.cleanup();
  }
}
