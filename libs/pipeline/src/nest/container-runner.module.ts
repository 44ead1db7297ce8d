import { Logger, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { traceContainerRunner } from '#osa/observability';
import { CONTAINER_RUNNER } from '#osa/runners';
import { createRunner } from './create-runner.js';
import { APP_CONFIG } from './tokens.js';

/**
 * The container runner the configuration names, for the stages that run containers (the
 * ingester and the hooks); the publisher and the dashboard never import it, so they never build
 * one (nor load the Kubernetes client).
 */
@Module({
  providers: [
    {
      provide: CONTAINER_RUNNER,
      useFactory: async (config: AppConfig) => traceContainerRunner(await createRunner(config, new Logger('KubernetesJobRunner'))),
      inject: [APP_CONFIG],
    },
  ],
  exports: [CONTAINER_RUNNER],
})
export class ContainerRunnerModule {}
