import { Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { StageMetrics } from '#osa/observability';
import { RunLedger } from '#osa/persistence';
import { CONTAINER_RUNNER, type ContainerRunner } from '#osa/runners';
import { RunHooksService } from '../hooks/run-hooks.service.js';
import { JobProducer } from '../jobs/job-producer.js';
import { ContainerRunnerModule } from './container-runner.module.js';
import { FailureAccountingModule } from './failure-accounting.module.js';
import { APP_CONFIG } from './tokens.js';

/** The hooks stage: runs every hook of the convention on a sourced batch. */
@Module({
  imports: [ContainerRunnerModule, FailureAccountingModule],
  providers: [
    {
      provide: RunHooksService,
      useFactory: (config: AppConfig, ledger: RunLedger, runner: ContainerRunner, producer: JobProducer, metrics?: StageMetrics) =>
        new RunHooksService(
          ledger,
          runner,
          producer,
          config.dataDir,
          { memoryCeilingBytes: config.hooks.memoryCeilingBytes, retries: config.hooks.oomRetries, maxBisectRuns: config.hooks.maxBisectRuns },
          config.containerOutput,
          metrics,
        ),
      // Container runs, memory escalations and bisections are counted when the service has metrics.
      inject: [APP_CONFIG, RunLedger, CONTAINER_RUNNER, JobProducer, { token: StageMetrics, optional: true }],
    },
  ],
  exports: [RunHooksService, FailureAccountingModule],
})
export class HooksStageModule {}
