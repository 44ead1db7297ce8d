import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { loadConfig, type AppConfig } from '#osa/config';
import { validateConvention } from '#osa/domain';
import { ConventionRepository, RunLedger, RunReadModel } from '#osa/persistence';
import { QueueName, redisConnection } from '#osa/queues';
import { createTestDatabase, deleteRedisPrefix, type TestDatabase, TEST_REDIS_URL, testQueuePrefix, waitFor } from '#osa/testing';
import { REPO_ROOT } from './pipeline-harness.js';

export type ServiceName = 'ingester-runner' | 'hook-runner' | 'publisher';

/** Builds dist/ once per test file (incrementally), so the services run exactly as they do in production. */
export function buildServices(): void {
  execFileSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/**
 * The stage services as separate OS processes (the built entry points), for tests that kill
 * them: SIGKILL in the middle of a batch, SIGTERM for a graceful stop.
 */
export class ProcessHarness {
  private readonly processes = new Map<ServiceName, { child: ChildProcess; exited: Promise<void> }>();
  readonly ledger: RunLedger;
  readonly reads: RunReadModel;
  readonly queues: Record<string, Queue> = {};
  private logs = '';

  private constructor(
    readonly config: AppConfig,
    readonly env: Record<string, string>,
    readonly database: TestDatabase,
    readonly markerDir: string,
  ) {
    this.ledger = new RunLedger(database.db);
    this.reads = new RunReadModel(database.db);
    for (const name of [QueueName.StartIngest, QueueName.Events]) {
      this.queues[name] = new Queue(name, { connection: redisConnection(config.redisUrl), prefix: config.queuePrefix });
    }
  }

  static async start(label: string, env: Record<string, string> = {}): Promise<ProcessHarness> {
    const database = await createTestDatabase(label);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `osa-${label}-`));
    const markerDir = await mkdtemp(path.join(os.tmpdir(), `osa-${label}-markers-`));
    const fullEnv: Record<string, string> = {
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      QUEUE_PREFIX: testQueuePrefix(label),
      LOCAL_RUNNER_CWD: REPO_ROOT,
      PORT: '0',
      LOG_LEVEL: 'warn',
      BACKOFF_BASE_MS: '50',
      BACKOFF_CAP_MS: '200',
      UNEXPECTED_BACKOFF_BASE_MS: '50',
      UNEXPECTED_BACKOFF_CAP_MS: '200',
      LOCK_DURATION_MS: '2000',
      STALLED_INTERVAL_MS: '1000',
      RECONCILE_INTERVAL_MS: '500',
      OUTBOX_RELAY_INTERVAL_MS: '200',
      SHUTDOWN_GRACE_SECONDS: '20',
      ...env,
    };
    return new ProcessHarness(loadConfig(fullEnv), fullEnv, database, markerDir);
  }

  /** Starts a service; `env` adds to the harness's environment for this service only (e.g. its PORT). */
  startService(name: ServiceName, env: Record<string, string> = {}): void {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/apps', name, 'src/main.js')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => (this.logs += `[${name}] ${chunk.toString()}`);
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise<void>((resolve) =>
      child.on('exit', (code, signal) => {
        if (!this.stopping.has(child)) this.unexpectedExits.push({ name, code, signal });
        resolve();
      }),
    );
    this.processes.set(name, { child, exited });
  }

  /** Services that exited without being told to (crashed), with their exit code or signal. */
  readonly unexpectedExits: Array<{ name: ServiceName; code: number | null; signal: NodeJS.Signals | null }> = [];
  private readonly stopping = new Set<ChildProcess>();

  startAll(): void {
    for (const name of ['ingester-runner', 'hook-runner', 'publisher'] as const) this.startService(name);
  }

  async kill(name: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const entry = this.processes.get(name);
    if (!entry) return;
    this.stopping.add(entry.child);
    entry.child.kill(signal);
    await entry.exited;
    this.processes.delete(name);
  }

  /** Waits for a container to leave a start marker, e.g. `ingester-2-` for batch 2. */
  async waitForMarker(prefix: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`marker ${prefix}`, async () => (await readdir(this.markerDir)).some((f) => f.startsWith(prefix)), { timeoutMs });
  }

  async applyConvention(document: unknown): Promise<void> {
    await new ConventionRepository().upsert(this.database.db, validateConvention(document));
  }

  async start(conventionId: string): Promise<string> {
    const queue = this.queues[QueueName.StartIngest]!;
    const job = await queue.add('start-ingest', { conventionId }, { attempts: 3, removeOnComplete: false, removeOnFail: false });
    await waitFor('start job to finish', async () => ['completed', 'failed'].includes(await queue.getJobState(job.id!)), { timeoutMs: 30_000 });
    const settled = (await queue.getJob(job.id!))!;
    if (settled.failedReason) throw new Error(settled.failedReason);
    return (settled.returnvalue as { runId: string }).runId;
  }

  async waitForRun(runId: string, timeoutMs = 90_000) {
    return waitFor(
      `run ${runId} to complete (service logs:\n${this.logs.slice(-3000)})`,
      async () => {
        const run = await this.reads.findRun(runId);
        return run?.status === 'completed' ? run : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  serviceLogs(): string {
    return this.logs;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((name) => this.kill(name)));
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    await deleteRedisPrefix(this.config.queuePrefix);
    await this.database.drop();
    await rm(this.config.dataDir, { recursive: true, force: true });
    await rm(this.markerDir, { recursive: true, force: true });
  }
}
