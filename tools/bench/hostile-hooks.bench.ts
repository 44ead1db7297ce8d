import path from 'node:path';
import { Queue } from 'bullmq';
import { validateConvention } from '#osa/domain';
import { ConventionRepository } from '#osa/persistence';
import { QueueName, redisConnection } from '#osa/queues';
import { stopService, type ServiceProcess } from '../demo/service-processes.js';
import { benchEnvironment, type BenchResult, mb, now, REPO_ROOT, until, waitForRun } from './common.js';
import { processMemory, startStageServices } from './stage-services.js';

const LIMIT_MB = 256;

/** A hook's output a careless or hostile hook writes, and the batch it gets. */
const CASES = [
  { name: 'clean', records: 10, config: { pass_all: true } },
  { name: 'garbage', records: 10, config: { pass_all: true, garbage_lines: Number(process.env.BENCH_GARBAGE_LINES ?? 2_000_000) } },
  { name: 'mass-reject', records: Number(process.env.BENCH_REJECT_RECORDS ?? 200_000), config: { reject_all: true } },
] as const;

/**
 * Peak RSS of the hook-runner (the built service, its own process) while it absorbs what a
 * hostile hook wrote: two million garbage lines for a 10-record batch, and a rejection for
 * each of 200,000 records. Every case starts fresh services, so each peak is its own.
 * `servicesRoot` runs the services of another build (a checkout with its own `dist/`), to compare.
 */
export async function run(servicesRoot = REPO_ROOT): Promise<BenchResult> {
  const cases: Array<{ case: string } & Awaited<ReturnType<typeof measure>>> = [];
  for (const c of CASES) cases.push({ case: c.name, ...(await measure(c.name, c.records, c.config, servicesRoot)) });
  const peak = (name: string) => cases.find((c) => c.case === name)!.hookRunnerPeakMb;
  const worst = Math.max(peak('garbage'), peak('mass-reject'));
  return {
    name: 'hostile-hooks',
    ratio: Math.round((worst / LIMIT_MB) * 100) / 100,
    target: `hook-runner ≤ ${LIMIT_MB} MB whatever a hook writes`,
    pass: worst <= LIMIT_MB,
    summary: cases.map((c) => `${c.case}: hook-runner ${c.hookRunnerPeakMb} MB, ${c.wallMs} ms, ${c.outcome}`).join('; '),
    details: { cases },
  };
}

async function measure(name: string, records: number, config: Record<string, unknown>, servicesRoot: string) {
  const env = await benchEnvironment(`hostile_${name.replace('-', '_')}`);
  const services: ServiceProcess[] = [];
  const start = new Queue(QueueName.StartIngest, { connection: redisConnection(env.config.redisUrl), prefix: env.prefix });
  try {
    await new ConventionRepository().upsert(
      env.database.db,
      validateConvention({
        id: 'bench-hostile',
        ingester: {
          command: ['node', path.join(REPO_ROOT, 'test/fixtures/counting-ingester.mjs')],
          config: { total: records, page_size: records },
          limits: { timeout_seconds: 600, memory: '2g' },
        },
        hooks: [
          {
            name: 'hostile',
            command: ['node', path.join(REPO_ROOT, 'test/fixtures/hostile-hook.mjs')],
            config,
            limits: { timeout_seconds: 600, memory: '2g' },
          },
        ],
      }),
    );
    // One attempt: a step that fails is reported, not retried for the length of the bench.
    await startStageServices(env, services, { root: servicesRoot, env: { HOOK_ATTEMPTS: '1', LOCK_DURATION_MS: '600000' } });
    const started = now();
    await start.add('start-ingest', { conventionId: 'bench-hostile', batchSize: records }, { attempts: 1 });
    const runId = await until(
      'the run to be created',
      async () => (await env.database.pool.query<{ id: string }>('SELECT id FROM ingest_runs')).rows[0]?.id,
      30_000,
    );
    const hookRunner = services[1]!;
    // The hook-runner may die of memory: its peak is read while it lives.
    let hookRunnerPeak = 0;
    const sampler = setInterval(() => {
      void processMemory(hookRunner.child.pid!)
        .then((m) => m.VmHWM)
        .then(
          (v) => (hookRunnerPeak = Math.max(hookRunnerPeak, v)),
          () => undefined,
        );
    }, 200);
    const done = await Promise.race([waitForRun(env, runId, 900_000, 500), hookRunner.exited.then((code) => ({ exited: code }))]);
    clearInterval(sampler);
    hookRunnerPeak = Math.max(
      hookRunnerPeak,
      await processMemory(hookRunner.child.pid!)
        .then((m) => m.VmHWM)
        .catch(() => 0),
    );
    const wallMs = Math.round(now() - started);
    const outcome =
      'exited' in done
        ? `hook-runner exited with code ${done.exited}`
        : `${done.status}, ${done.batchesFailed} failed batch(es)${done.failureReason ? ` (${done.failureReason.slice(0, 120)})` : ''}`;
    return { records, hookRunnerPeakMb: mb(hookRunnerPeak), wallMs, outcome };
  } finally {
    for (const service of services) await stopService(service);
    await start.close();
    await env.cleanup();
  }
}
