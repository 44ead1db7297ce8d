import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService } from '#osa/pipeline';
import { HookRunnerModule } from './hook-runner.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
startServiceTracing('hook-runner');
await bootstrapService('hook-runner', (config) => HookRunnerModule.forRoot(config));
