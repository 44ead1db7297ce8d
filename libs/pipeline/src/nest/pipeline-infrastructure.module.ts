import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { queueTelemetry, READINESS_SOURCE, TracingFlush } from '#osa/observability';
import {
  ConventionRepository,
  type DatabaseHandle,
  openDatabase,
  OutboxRepository,
  RecordRepository,
  RunLedger,
  RunReadModel,
} from '#osa/persistence';
import { ALL_QUEUES, QueueName, redisConnection } from '#osa/queues';
import { ConnectionErrorLog } from '../connections/connection-error-log.js';
import { JobProducer, type QueueSet } from '../jobs/job-producer.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { createRunLedger } from '../tracing/traced-run-ledger.js';
import { ReadinessCheck } from './readiness-check.js';
import { APP_CONFIG, DATABASE } from './tokens.js';

/** Closes the database pool when the application stops. */
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: DatabaseHandle) {}
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * What every service of the pipeline needs, whichever stage it runs: its configuration, the
 * database and the run ledger, the queues, the job producer and the outbox relay. Global, so
 * the stage modules, health and metrics find them; it holds no stage service and no container
 * runner (the stage modules bring those).
 */
@Global()
@Module({})
export class PipelineInfrastructureModule {
  static forRoot(config: AppConfig, appName: string): DynamicModule {
    return {
      module: PipelineInfrastructureModule,
      imports: [
        BullModule.forRoot({ connection: redisConnection(config.redisUrl), prefix: config.queuePrefix, telemetry: queueTelemetry() }),
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
        TracingFlush,
        { provide: RunLedger, useFactory: (h: DatabaseHandle) => createRunLedger(h.db), inject: [DATABASE] },
        { provide: RunReadModel, useFactory: (h: DatabaseHandle) => new RunReadModel(h.db), inject: [DATABASE] },
        { provide: ConventionRepository, useValue: new ConventionRepository() },
        { provide: RecordRepository, useValue: new RecordRepository() },
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
          inject: ALL_QUEUES.map((name) => getQueueToken(name)),
        },
        {
          provide: OutboxRelay,
          useFactory: (h: DatabaseHandle, events: Queue) => new OutboxRelay(h.db, new OutboxRepository(), events, config.eventsRetentionHours),
          inject: [DATABASE, getQueueToken(QueueName.Events)],
        },
        ReadinessCheck,
        // What MetricsModule exports as osa_ready.
        { provide: READINESS_SOURCE, useExisting: ReadinessCheck },
      ],
      exports: [
        BullModule,
        APP_CONFIG,
        DATABASE,
        RunLedger,
        RunReadModel,
        ConventionRepository,
        RecordRepository,
        JobProducer,
        OutboxRelay,
        ReadinessCheck,
        READINESS_SOURCE,
      ],
    };
  }
}
