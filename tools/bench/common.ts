import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { type AppConfig, loadConfig } from '#osa/config';
import { validateConvention } from '#osa/domain';
import { ConventionRepository, type IngestRunRow, RunLedger, RunReadModel } from '#osa/persistence';
import { StageWorkers } from '#osa/pipeline';
import { QueueName, redisConnection } from '#osa/queues';
import { CONTAINER_RUNNER, type CapacityReport, type ContainerRunner, type ContainerRunRequest, type ContainerRunResult } from '#osa/runners';
import { JsonLinesWriter, readJsonLines } from '#osa/storage';
import { createScratchDatabase, deleteRedisPrefix, SCRATCH_REDIS_URL, type ScratchDatabase, scratchQueuePrefix } from '../scratch/scratch-stores.js';
import { HookRunnerModule } from '../../apps/hook-runner/src/hook-runner.module.js';
import { IngesterRunnerModule } from '../../apps/ingester-runner/src/ingester-runner.module.js';
import { PublisherModule } from '../../apps/publisher/src/publisher.module.js';

/** The repository root (this file runs from dist/tools/bench). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const benchFixture = (name: string) => path.join(REPO_ROOT, 'tools/bench/fixtures', name);

/** What every benchmark returns: its figures and the ratio to the floor measured in the same run. */
export interface BenchResult {
  name: string;
  /** Headline: measured value / floor (or / ideal); `better` says which direction is good. */
  ratio: number;
  target: string;
  pass: boolean;
  summary: string;
  details: Record<string, unknown>;
}

export type StageName = 'ingester' | 'hooks' | 'publisher';

/** Production defaults except logging; the reconciler and relay keep their production intervals. */
export const BENCH_ENV: Record<string, string> = { LOG_LEVEL: 'silent' };

export function now(): number {
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Polls `check` until it returns a value, failing after `timeoutMs` (every bench bounds its loops). */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A database, a queue prefix and a data directory of the bench's own; `cleanup` removes all three. */
export interface BenchEnvironment {
  label: string;
  database: ScratchDatabase;
  prefix: string;
  dataDir: string;
  config: AppConfig;
  ledger: RunLedger;
  reads: RunReadModel;
  cleanup(): Promise<void>;
}

export async function benchEnvironment(label: string, env: Record<string, string> = {}): Promise<BenchEnvironment> {
  const database = await createScratchDatabase(`bench_${label}`, `osa-bench-${label}`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `osa-bench-${label}-`));
  const prefix = scratchQueuePrefix('osabench', label);
  const config = loadConfig({
    ...BENCH_ENV,
    REDIS_URL: SCRATCH_REDIS_URL,
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    QUEUE_PREFIX: prefix,
    LOCAL_RUNNER_CWD: REPO_ROOT,
    ...env,
  });
  return {
    label,
    database,
    prefix,
    dataDir,
    config,
    ledger: new RunLedger(database.db),
    reads: new RunReadModel(database.db),
    async cleanup() {
      await deleteRedisPrefix(prefix).catch(() => undefined);
      await database.drop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The three stage services in this process, wired by their own Nest modules (as
 * test/support/pipeline-harness.ts does), optionally with the container runner replaced.
 */
export class InProcessStages {
  private readonly apps: INestApplicationContext[] = [];
  readonly startQueue: Queue;

  private constructor(readonly env: BenchEnvironment) {
    this.startQueue = new Queue(QueueName.StartIngest, { connection: redisConnection(env.config.redisUrl), prefix: env.config.queuePrefix });
  }

  static async start(
    env: BenchEnvironment,
    runner?: ContainerRunner,
    stages: StageName[] = ['ingester', 'hooks', 'publisher'],
  ): Promise<InProcessStages> {
    Logger.overrideLogger(false);
    const self = new InProcessStages(env);
    for (const stage of stages) {
      const module =
        stage === 'ingester'
          ? IngesterRunnerModule.forRoot(env.config)
          : stage === 'hooks'
            ? HookRunnerModule.forRoot(env.config)
            : PublisherModule.forRoot(env.config);
      const builder = Test.createTestingModule({ imports: [module] });
      if (runner) builder.overrideProvider(CONTAINER_RUNNER).useValue(runner);
      const app = await builder.compile();
      await app.init();
      app.get(StageWorkers).start();
      self.apps.push(app);
    }
    return self;
  }

  async applyConvention(document: unknown): Promise<void> {
    await new ConventionRepository().upsert(this.env.database.db, validateConvention(document));
  }

  /** Adds the start job; resolves the run id once the start job has finished. */
  async startRun(data: unknown, timeoutMs = 30_000): Promise<string> {
    const job = await this.startQueue.add('start-ingest', data, { attempts: 1 });
    return until(
      'the start job',
      async () => {
        const state = await this.startQueue.getJobState(job.id!);
        if (state === 'failed') throw new Error(`start job failed: ${(await this.startQueue.getJob(job.id!))?.failedReason}`);
        if (state !== 'completed') return undefined;
        return ((await this.startQueue.getJob(job.id!))!.returnvalue as { runId: string }).runId;
      },
      timeoutMs,
      5,
    );
  }

  async stop(): Promise<void> {
    for (const app of this.apps.splice(0).reverse()) await app.close();
    await this.startQueue.close();
  }
}

export async function waitForRun(env: BenchEnvironment, runId: string, timeoutMs: number, intervalMs = 20): Promise<IngestRunRow> {
  return until(
    `run ${runId} to end`,
    async () => {
      const run = await env.reads.findRun(runId);
      return run?.status === 'completed' ? run : undefined;
    },
    timeoutMs,
    intervalMs,
  ).catch(async (err: Error) => {
    const run = await env.reads.findRun(runId);
    const { rows } = await env.database.pool.query('SELECT state, count(*) FROM ingest_batches WHERE run_id = $1 GROUP BY state', [runId]);
    const { rows: issues } = await env.database.pool.query('SELECT stage, kind, reason FROM record_issues WHERE run_id = $1 LIMIT 3', [runId]);
    throw new Error(
      `${err.message}; run ${JSON.stringify({ status: run?.status, ingested: run?.batchesIngested, completed: run?.batchesPublished, failed: run?.batchesFailed, reason: run?.failureReason, deferrals: run?.deferrals, waiting: run?.waitingReason })}, batches ${JSON.stringify(rows)}, issues ${JSON.stringify(issues)}`,
    );
  });
}

export interface InProcessRunnerOptions {
  /** Records the ingester writes per batch. */
  recordsPerBatch: number;
  /** Records in the whole (synthetic) source. */
  totalRecords: number;
  /** Fixed time each container takes (simulated work), per role. */
  ingesterMs?: number;
  hookMs?: number;
}

/**
 * A ContainerRunner that does a container's job in this process without spawning anything:
 * the ingester writes `recordsPerBatch` records and a session, a hook passes every record with
 * one feature. With `ingesterMs`/`hookMs` it takes that fixed time first, like a container
 * doing real work. It measures the pipeline's own cost, not a container's start-up.
 */
export class InProcessRunner implements ContainerRunner {
  readonly started: Array<{ role: string; batchIndex: number; at: number }> = [];

  constructor(
    private readonly dataDir: string,
    private readonly options: InProcessRunnerOptions,
  ) {}

  capacity(): Promise<CapacityReport> {
    return Promise.resolve({ available: true });
  }

  async run(request: ContainerRunRequest): Promise<ContainerRunResult> {
    const started = now();
    const abs = (rel: string) => path.join(this.dataDir, rel);
    const outDir = abs(request.dirs.out);
    await mkdir(outDir, { recursive: true });
    if (request.role === 'ingester') {
      if (this.options.ingesterMs) await sleep(this.options.ingesterMs);
      const sessionFile = path.join(abs(request.dirs.in), 'session.json');
      const offset = existsSync(sessionFile) ? (JSON.parse(await readFile(sessionFile, 'utf8')) as { offset: number }).offset : 0;
      const end = Math.min(this.options.totalRecords, offset + Math.min(this.options.recordsPerBatch, Number(request.env.OSA_LIMIT)));
      let text = '';
      for (let i = offset; i < end; i++)
        text += `${JSON.stringify({ source_id: `rec-${i}`, metadata: { n: i, title: `record ${i}` }, files: [] })}\n`;
      await writeFile(path.join(outDir, 'records.jsonl'), text);
      if (end < this.options.totalRecords) await writeFile(path.join(outDir, 'session.json'), JSON.stringify({ offset: end }));
    } else {
      if (this.options.hookMs) await sleep(this.options.hookMs);
      const features = await JsonLinesWriter.open(path.join(outDir, 'features.jsonl'));
      for await (const line of readJsonLines(path.join(abs(request.dirs.in), 'records.jsonl'))) {
        const { id, metadata } = JSON.parse(line.text) as { id: string; metadata: { n?: number } };
        await features.write({ id, features: [{ n2: (metadata.n ?? 0) * 2 }] });
      }
      await features.close();
    }
    return { exitCode: 0, logTail: [], durationMs: now() - started, reused: false };
  }
}

/** A convention whose containers are never spawned (for the in-process runner). */
export function inProcessConvention(id: string, hooks: number): Record<string, unknown> {
  return {
    id,
    ingester: { command: ['in-process'], limits: { timeout_seconds: 600, memory: '1g' } },
    hooks: Array.from({ length: hooks }, (_, i) => ({ name: `hook${i}`, command: ['in-process'], limits: { timeout_seconds: 600, memory: '1g' } })),
  };
}

/** Redis INFO memory used_memory (the whole server) and the bytes held by keys under `prefix`. */
export async function redisMemory(
  prefix: string,
): Promise<{ usedMemory: number; prefixBytes: number; prefixKeys: number; byQueue: Record<string, number> }> {
  const redis = new Redis(SCRATCH_REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    const info = await redis.info('memory');
    const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
    let cursor = '0';
    let prefixBytes = 0;
    let prefixKeys = 0;
    const byQueue: Record<string, number> = {};
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.memory('USAGE', key);
      const sizes = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const bytes = Number(sizes[i]?.[1] ?? 0);
        prefixBytes += bytes;
        prefixKeys++;
        const queue = key.slice(prefix.length + 1).split(':')[0]!;
        byQueue[queue] = (byQueue[queue] ?? 0) + bytes;
      });
    } while (cursor !== '0');
    return { usedMemory, prefixBytes, prefixKeys, byQueue };
  } finally {
    redis.disconnect();
  }
}

export function machine(): Record<string, string> {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: run('nproc', []),
    memory: run('free', ['-h']).split('\n')[1]?.replace(/\s+/g, ' ') ?? 'unknown',
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    postgres: run('psql', ['--version']),
    redis: run('redis-server', ['--version']).split(' ').slice(0, 3).join(' '),
  };
}

export const mb = (bytes: number) => round(bytes / 1024 ** 2, 1);

/**
 * Per-batch latency through the stages, from Redis' own clock: when the first stage's job for
 * batch n became active, and when the last stage's job for batch n completed (the event
 * stream ids are Redis timestamps, so a slow listener does not skew them).
 */
export class BatchTimer {
  readonly started = new Map<number, number>();
  readonly finished = new Map<number, number>();
  private readonly events: QueueEvents[] = [];

  static async open(
    connection: { redisUrl: string; prefix: string },
    first: string,
    last: string,
    batchOf: (jobId: string) => number | undefined,
  ): Promise<BatchTimer> {
    const timer = new BatchTimer();
    const open = (name: string) => new QueueEvents(name, { connection: redisConnection(connection.redisUrl), prefix: connection.prefix });
    const a = open(first);
    const b = open(last);
    timer.events.push(a, b);
    const at = (id: string) => Number(id.split('-')[0]);
    a.on('active', ({ jobId }, id) => {
      const n = batchOf(jobId);
      if (n !== undefined && !timer.started.has(n)) timer.started.set(n, at(id));
    });
    b.on('completed', ({ jobId }, id) => {
      const n = batchOf(jobId);
      if (n !== undefined) timer.finished.set(n, at(id));
    });
    await Promise.all(timer.events.map((e) => e.waitUntilReady()));
    // QueueEvents reads from "now" only once its blocking XREAD is in place.
    await sleep(200);
    return timer;
  }

  /** p50/p95 per-batch latency, and time per batch over the whole run (the inverse of throughput). */
  stats(count: number): { batches: number; p50Ms: number; p95Ms: number; wallMs: number; msPerBatch: number; batchesPerSecond: number } {
    const latencies: number[] = [];
    for (let n = 0; n < count; n++) {
      const s = this.started.get(n);
      const f = this.finished.get(n);
      if (s !== undefined && f !== undefined) latencies.push(f - s);
    }
    const first = Math.min(...this.started.values());
    const last = Math.max(...this.finished.values());
    const wallMs = last - first;
    return {
      batches: latencies.length,
      p50Ms: round(percentile(latencies, 50), 1),
      p95Ms: round(percentile(latencies, 95), 1),
      wallMs,
      msPerBatch: round(wallMs / count, 2),
      batchesPerSecond: round((count / wallMs) * 1000, 1),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.events.map((e) => e.close()));
  }
}
