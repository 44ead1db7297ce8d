import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { ConventionRepository, type DatabaseHandle, openDatabase, OutboxRepository, RecordRepository, RunLedger } from '#osa/persistence';
import { ALL_QUEUES, QueueName, redisConnection } from '#osa/queues';
import { CONTAINER_RUNNER, type ContainerRunner } from '#osa/runners';
import { ExhaustionService } from '../accounting/exhaustion.service.js';
import { RunHooksService } from '../hooks/run-hooks.service.js';
import { BackpressureGate } from '../ingester/backpressure.gate.js';
import { IngestBatchService } from '../ingester/ingest-batch.service.js';
import { JobProducer, type QueueSet } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { PublishBatchService } from '../publisher/publish-batch.service.js';
import { ReconcilerService } from '../reconciler/reconciler.service.js';
import { ConnectionErrorLog } from '../connections/connection-error-log.js';
import { StartIngestService } from '../start/start-ingest.service.js';
import { createRunner } from './create-runner.js';
import { APP_CONFIG, DATABASE } from './tokens.js';

const queueTokens = ALL_QUEUES.map((name) => getQueueToken(name));

/** Closes the database pool when the application stops. */
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: DatabaseHandle) {}
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * Everything the stage services share, wired once from an AppConfig: queues, database,
 * ledger, runner, producer, outbox relay and the stage services themselves.
 */
@Global()
@Module({})
export class PipelineCoreModule {
  static forRoot(config: AppConfig, appName: string): DynamicModule {
    const db = (handle: DatabaseHandle) => handle.db;
    return {
      module: PipelineCoreModule,
      imports: [
        BullModule.forRoot({ connection: redisConnection(config.redisUrl), prefix: config.queuePrefix }),
        BullModule.registerQueue(...ALL_QUEUES.map((name) => ({ name }))),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: DATABASE,
          useFactory: () => {
            const errors = new ConnectionErrorLog(new Logger('Database'), 'postgres connection lost');
            return openDatabase(config.databaseUrl, { applicationName: `osa-${appName}`, onConnectionError: (err) => errors.report(err) });
          },
        },
        DatabaseCloser,
        { provide: RunLedger, useFactory: (h: DatabaseHandle) => new RunLedger(h.db), inject: [DATABASE] },
        { provide: ConventionRepository, useValue: new ConventionRepository() },
        { provide: RecordRepository, useValue: new RecordRepository() },
        { provide: CONTAINER_RUNNER, useFactory: () => createRunner(config) },
        {
          provide: JobProducer,
          useFactory: (...queues: Queue[]) => {
            // Without a listener BullMQ prints a lost Redis connection to stderr as plain text.
            const logger = new Logger('Redis');
            for (const queue of queues) {
              const errors = new ConnectionErrorLog(logger, `queue ${queue.name}`);
              queue.on('error', (err) => errors.report(err));
            }
            return new JobProducer(Object.fromEntries(ALL_QUEUES.map((name, i) => [name, queues[i]])) as QueueSet, config);
          },
          inject: queueTokens,
        },
        {
          provide: OutboxRelay,
          useFactory: (h: DatabaseHandle, events: Queue) => new OutboxRelay(h.db, new OutboxRepository(), events, config.eventsRetentionHours),
          inject: [DATABASE, getQueueToken(QueueName.Events)],
        },
        {
          provide: StartIngestService,
          useFactory: (h: DatabaseHandle, l: RunLedger, c: ConventionRepository, p: JobProducer, r: OutboxRelay) =>
            new StartIngestService(db(h), l, c, p, r),
          inject: [DATABASE, RunLedger, ConventionRepository, JobProducer, OutboxRelay],
        },
        {
          provide: IngestBatchService,
          useFactory: (h: DatabaseHandle, l: RunLedger, run: ContainerRunner, p: JobProducer, r: OutboxRelay) =>
            new IngestBatchService(
              db(h),
              l,
              run,
              p,
              r,
              config.dataDir,
              new BackpressureGate(db(h), l, run, config.backpressure),
              config.backpressure,
              config.containerOutput,
            ),
          inject: [DATABASE, RunLedger, CONTAINER_RUNNER, JobProducer, OutboxRelay],
        },
        {
          provide: RunHooksService,
          useFactory: (h: DatabaseHandle, l: RunLedger, run: ContainerRunner, p: JobProducer) =>
            new RunHooksService(
              db(h),
              l,
              run,
              p,
              config.dataDir,
              {
                memoryCeilingBytes: config.hooks.memoryCeilingBytes,
                retries: config.hooks.oomRetries,
                maxBisectRuns: config.hooks.maxBisectRuns,
              },
              config.containerOutput,
            ),
          inject: [DATABASE, RunLedger, CONTAINER_RUNNER, JobProducer],
        },
        {
          provide: PublishBatchService,
          useFactory: (h: DatabaseHandle, l: RunLedger, rec: RecordRepository, r: OutboxRelay, p: JobProducer) =>
            new PublishBatchService(db(h), l, rec, r, p, config.dataDir),
          inject: [DATABASE, RunLedger, RecordRepository, OutboxRelay, JobProducer],
        },
        {
          provide: ExhaustionService,
          useFactory: (l: RunLedger, r: OutboxRelay, p: JobProducer) => new ExhaustionService(l, r, p),
          inject: [RunLedger, OutboxRelay, JobProducer],
        },
        {
          provide: ReconcilerService,
          useFactory: (h: DatabaseHandle, l: RunLedger, p: JobProducer, e: ExhaustionService, r: OutboxRelay) =>
            new ReconcilerService(db(h), l, p, e, r),
          inject: [DATABASE, RunLedger, JobProducer, ExhaustionService, OutboxRelay],
        },
      ],
      exports: [
        BullModule,
        APP_CONFIG,
        DATABASE,
        RunLedger,
        ConventionRepository,
        RecordRepository,
        CONTAINER_RUNNER,
        JobProducer,
        OutboxRelay,
        StartIngestService,
        IngestBatchService,
        RunHooksService,
        PublishBatchService,
        ExhaustionService,
        ReconcilerService,
      ],
    };
  }
}
