import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { type AppConfig, loadConfig } from '#osa/config';
import { type Convention, validateConvention } from '#osa/domain';
import { ConventionRepository, OutboxRepository, RecordRepository, RunLedger, RunReadModel } from '#osa/persistence';
import {
  BackpressureGate,
  ExhaustionService,
  IngestBatchService,
  JobProducer,
  OutboxRelay,
  PublishBatchService,
  ReconcilerService,
  ReplayService,
  RunHooksService,
  StartIngestService,
} from '#osa/pipeline';
import { QueueName } from '#osa/queues';
import { createTestDatabase, ingestBatches, ingestRuns, outboxEvents, recordIssues, records, type TestDatabase } from '#osa/testing';
import { FakeContainerRunner, flagHook } from './fake-container-runner.js';
import { InMemoryQueues } from './in-memory-queues.js';

const LIMITS = { timeout_seconds: 60, memory: '256m' };

/** A convention whose containers the fake runner plays: an ingester and the named hooks. */
export function testConvention(id: string, hooks: string[] = ['flag']): Convention {
  return validateConvention({
    id,
    ingester: { command: ['fake-ingester'], limits: LIMITS },
    hooks: hooks.map((name) => ({ name, command: ['fake-hook'], limits: LIMITS })),
  });
}

/**
 * The stage services wired as the Nest modules wire them, against a Postgres database of their
 * own, with a fake container runner and in-memory queues: no Redis, no processes. Tests call
 * the services directly and read the ledger's tables.
 */
export class MediumPipeline {
  readonly queues = new InMemoryQueues();
  readonly runner: FakeContainerRunner;
  readonly ledger: RunLedger;
  readonly producer: JobProducer;
  readonly relay: OutboxRelay;
  readonly gate: BackpressureGate;
  readonly starter: StartIngestService;
  readonly ingester: IngestBatchService;
  readonly hooks: RunHooksService;
  readonly publisher: PublishBatchService;
  readonly exhaustion: ExhaustionService;
  readonly reconciler: ReconcilerService;
  readonly replays: ReplayService;
  private attempts = 0;
  private startJobs = 0;

  private constructor(
    readonly config: AppConfig,
    readonly database: TestDatabase,
  ) {
    const db = database.db;
    this.runner = new FakeContainerRunner(config.dataDir);
    this.runner.hooks.set('flag', flagHook());
    this.ledger = new RunLedger(db);
    this.producer = new JobProducer(this.queues.asQueues, config);
    this.relay = new OutboxRelay(db, new OutboxRepository(), this.queues.asQueues[QueueName.Events], config.eventsRetentionHours);
    this.gate = new BackpressureGate(this.ledger, this.runner, config.backpressure);
    this.starter = new StartIngestService(db, this.ledger, new ConventionRepository(), this.producer, this.relay);
    this.ingester = new IngestBatchService(
      this.ledger,
      this.runner,
      this.producer,
      this.relay,
      config.dataDir,
      this.gate,
      config.backpressure,
      config.containerOutput,
    );
    const { memoryCeilingBytes, oomRetries, maxBisectRuns } = config.hooks;
    this.hooks = new RunHooksService(
      this.ledger,
      this.runner,
      this.producer,
      config.dataDir,
      { memoryCeilingBytes, retries: oomRetries, maxBisectRuns },
      config.containerOutput,
    );
    this.publisher = new PublishBatchService(this.ledger, new RecordRepository(), this.relay, this.producer, config.dataDir);
    this.exhaustion = new ExhaustionService(this.ledger, this.relay, this.producer);
    this.reconciler = new ReconcilerService(new RunReadModel(db), this.ledger, this.producer, this.exhaustion, this.relay);
    this.replays = new ReplayService(this.ledger, new RunReadModel(db), this.producer, this.relay);
  }

  /** `env` as the services' environment (e.g. MAX_PENDING_BATCHES); Redis is never contacted. */
  static async create(label: string, env: Record<string, string> = {}): Promise<MediumPipeline> {
    const database = await createTestDatabase(label);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `osa-medium-${label}-`));
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: database.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
    return new MediumPipeline(config, database);
  }

  /** Registers the convention and starts a run of it through the start-ingest service. */
  async startRun(convention: Convention, payload: { batchSize?: number; limit?: number } = {}): Promise<string> {
    await new ConventionRepository().upsert(this.database.db, convention);
    const { runId } = await this.starter.start({
      id: String(++this.startJobs),
      timestamp: Date.now(),
      data: { conventionId: convention.id, ...payload },
    });
    return runId;
  }

  /** A number unique to each start of a stage job, as the stage processors draw from the database. */
  nextAttempt(): number {
    return ++this.attempts;
  }

  /** Stage job data for a batch. */
  job(runId: string, batchIndex: number, attempt = this.nextAttempt()) {
    return { data: { runId, batchIndex }, attempt };
  }

  async run(runId: string) {
    const [row] = await this.database.db.select().from(ingestRuns).where(eq(ingestRuns.id, runId));
    if (!row) throw new Error(`no run ${runId}`);
    return row;
  }

  batches(runId: string) {
    return this.database.db.select().from(ingestBatches).where(eq(ingestBatches.runId, runId)).orderBy(asc(ingestBatches.batchIndex));
  }

  async batchStates(runId: string): Promise<string[]> {
    return (await this.batches(runId)).map((b) => `${b.batchIndex}:${b.state}`);
  }

  issues(runId: string) {
    return this.database.db.select().from(recordIssues).where(eq(recordIssues.runId, runId)).orderBy(asc(recordIssues.id));
  }

  async eventIds(runId: string): Promise<string[]> {
    const rows = await this.database.db.select().from(outboxEvents).where(eq(outboxEvents.runId, runId)).orderBy(asc(outboxEvents.id));
    return rows.map((r) => r.eventId);
  }

  async publishedIds(runId: string): Promise<string[]> {
    const rows = await this.database.db.select().from(records).where(eq(records.runId, runId));
    return rows.map((r) => r.sourceId).sort();
  }

  /** The ids of the jobs on a queue now. */
  jobIds(queue: QueueName): string[] {
    return this.queues.queue(queue).ids();
  }

  async close(): Promise<void> {
    await this.database.drop();
    await rm(this.config.dataDir, { recursive: true, force: true });
  }
}
