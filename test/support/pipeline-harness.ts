import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Job, Queue } from 'bullmq';
import { type AppConfig, loadConfig } from '#osa/config';
import { type Convention, validateConvention } from '#osa/domain';
import { ConventionRepository, type IngestRunRow, RunLedger, RunReadModel } from '#osa/persistence';
import { StageWorkers } from '#osa/pipeline';
import { QueueName, redisConnection } from '#osa/queues';
import { createTestDatabase, deleteRedisPrefix, type TestDatabase, TEST_REDIS_URL, testQueuePrefix, waitFor } from '#osa/testing';
import { HookRunnerModule } from '../../apps/hook-runner/src/hook-runner.module.js';
import { IngesterRunnerModule } from '../../apps/ingester-runner/src/ingester-runner.module.js';
import { PublisherModule } from '../../apps/publisher/src/publisher.module.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixture = (name: string) => path.join(REPO_ROOT, 'test/fixtures', name);

export type StageName = 'ingester' | 'hooks' | 'publisher';

const TEST_ENV: Record<string, string> = {
  BACKOFF_BASE_MS: '20',
  BACKOFF_CAP_MS: '100',
  UNEXPECTED_BACKOFF_BASE_MS: '20',
  UNEXPECTED_BACKOFF_CAP_MS: '100',
  RECONCILE_INTERVAL_MS: '300',
  OUTBOX_RELAY_INTERVAL_MS: '100',
  STALLED_INTERVAL_MS: '1000',
  LOCK_DURATION_MS: '2000',
  MEMORY_SAMPLE_INTERVAL_MS: '20',
  LOG_LEVEL: 'silent',
};

/**
 * The three stage services running in this process against the real Redis and Postgres, with a
 * database, queue prefix and data directory of their own.
 */
export class PipelineHarness {
  private readonly apps = new Map<StageName, INestApplicationContext>();
  readonly startQueue: Queue;
  readonly ledger: RunLedger;
  readonly reads: RunReadModel;

  private constructor(
    readonly config: AppConfig,
    readonly database: TestDatabase,
  ) {
    this.startQueue = new Queue(QueueName.StartIngest, { connection: redisConnection(config.redisUrl), prefix: config.queuePrefix });
    this.ledger = new RunLedger(database.db);
    this.reads = new RunReadModel(database.db);
  }

  static async start(label: string, env: Record<string, string> = {}, stages: StageName[] = ['ingester', 'hooks', 'publisher']) {
    const database = await createTestDatabase(label);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `osa-${label}-`));
    const config = loadConfig({
      ...TEST_ENV,
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      QUEUE_PREFIX: testQueuePrefix(label),
      LOCAL_RUNNER_CWD: REPO_ROOT,
      ...env,
    });
    const harness = new PipelineHarness(config, database);
    for (const stage of stages) await harness.startStage(stage);
    return harness;
  }

  async startStage(stage: StageName): Promise<void> {
    const module =
      stage === 'ingester'
        ? IngesterRunnerModule.forRoot(this.config)
        : stage === 'hooks'
          ? HookRunnerModule.forRoot(this.config)
          : PublisherModule.forRoot(this.config);
    const app = await NestFactory.createApplicationContext(module, { logger: process.env.DEBUG_PIPELINE ? ['error', 'warn', 'log'] : false });
    await app.init();
    app.get(StageWorkers).start();
    this.apps.set(stage, app);
  }

  async stopStage(stage: StageName): Promise<void> {
    await this.apps.get(stage)?.close();
    this.apps.delete(stage);
  }

  get<T>(stage: StageName, token: abstract new (...args: never[]) => T): T {
    return this.apps.get(stage)!.get(token as never);
  }

  async applyConvention(document: unknown): Promise<Convention> {
    const convention = validateConvention(document);
    await new ConventionRepository().upsert(this.database.db, convention);
    return convention;
  }

  async startIngest(data: unknown): Promise<Job> {
    return this.startQueue.add('start-ingest', data, { attempts: 1, removeOnComplete: false, removeOnFail: false });
  }

  /** Waits for the start job to finish; resolves its run id, or rejects with its failed reason. */
  async runIdOf(job: Job): Promise<string> {
    await waitFor(`start job ${job.id} to finish`, async () => {
      const state = await this.startQueue.getJobState(job.id!);
      return state === 'completed' || state === 'failed';
    });
    // Read the job only once it has settled, so its return value or reason is there.
    const settled = (await this.startQueue.getJob(job.id!))!;
    if (settled.failedReason) throw new Error(settled.failedReason);
    return (settled.returnvalue as { runId: string }).runId;
  }

  async waitForRun(runId: string, timeoutMs = 60_000): Promise<IngestRunRow> {
    return waitFor(
      `run ${runId} to complete`,
      async () => {
        const run = await this.reads.findRun(runId);
        return run?.status === 'completed' ? run : undefined;
      },
      { timeoutMs },
    );
  }

  async stop(): Promise<void> {
    for (const stage of [...this.apps.keys()]) await this.stopStage(stage);
    await this.startQueue.close();
    await deleteRedisPrefix(this.config.queuePrefix);
    await this.database.drop();
    await rm(this.config.dataDir, { recursive: true, force: true });
  }
}

export function countingConvention(
  id: string,
  ingesterConfig: Record<string, unknown>,
  hooks: Array<{ name: string; config?: Record<string, unknown> }> = [{ name: 'flag' }],
) {
  return {
    id,
    ingester: { command: ['node', fixture('counting-ingester.mjs')], config: ingesterConfig, limits: { timeout_seconds: 60, memory: '512m' } },
    hooks: hooks.map((h) => ({
      name: h.name,
      command: ['node', fixture('flag-hook.mjs')],
      config: h.config,
      limits: { timeout_seconds: 60, memory: '512m' },
    })),
  };
}
