import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService } from '#osa/pipeline';
import { IngesterRunnerModule } from './ingester-runner.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
startServiceTracing('ingester-runner');
await bootstrapService('ingester-runner', (config) => IngesterRunnerModule.forRoot(config));
