import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { MetricsController, MetricsModule } from '#osa/observability';
import { RunReadModel } from '#osa/persistence';
import { ControlPlaneModule, HealthController, PipelineInfrastructureModule } from '#osa/pipeline';
import { ConventionsController } from './api/conventions.controller.js';
import { IngestionsController } from './api/ingestions.controller.js';
import { OpenApiController } from './api/openapi.controller.js';
import { RunQueryService } from './api/run-query.service.js';
import { StartJobsController } from './api/start-jobs.controller.js';
import { AuthModule } from './auth/auth.module.js';
import { QueueBoardModule } from './bull-board/queue-board.module.js';
import type { DashboardEnv } from './dashboard-env.js';
import { PagesModule } from './pages/pages.module.js';
import { DASHBOARD_ENV } from './tokens.js';

/** Every HTTP controller of the dashboard; the OpenAPI test compares their routes with the document. */
export const DASHBOARD_API_CONTROLLERS = [IngestionsController, StartJobsController, ConventionsController, OpenApiController];

/** The control plane: Bull Board at /queues, the HTTP API at /api, /metrics and health. */
@Module({})
export class DashboardModule {
  static forRoot(config: AppConfig, env: DashboardEnv): DynamicModule {
    return {
      module: DashboardModule,
      imports: [
        PipelineInfrastructureModule.forRoot(config, 'dashboard'),
        ControlPlaneModule,
        MetricsModule.forRoot('dashboard', { runsSource: RunReadModel, backpressureMaxWaitMs: config.backpressure.maxWaitMs }),
        QueueBoardModule.forRoot(),
        AuthModule.forRoot(env, { open: [HealthController, MetricsController] }),
        PagesModule,
      ],
      controllers: [HealthController, ...DASHBOARD_API_CONTROLLERS],
      providers: [{ provide: DASHBOARD_ENV, useValue: env }, RunQueryService],
    };
  }
}
