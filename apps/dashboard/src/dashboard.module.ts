import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { HealthController, PipelineCoreModule } from '#osa/pipeline';

/** The control plane: health for now; Bull Board and the HTTP API are mounted here. */
@Module({})
export class DashboardModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DashboardModule,
      imports: [PipelineCoreModule.forRoot(config, 'dashboard')],
      controllers: [HealthController],
    };
  }
}
