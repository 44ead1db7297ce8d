import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService, StageWorkers } from '#osa/pipeline';
import { HookRunnerModule } from './hook-runner.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
await startServiceTracing('hook-runner');
const app = await bootstrapService('hook-runner', (config) => HookRunnerModule.forRoot(config));
// Jobs are taken only now, with every module initialised and the port bound.
app.get(StageWorkers).start();
