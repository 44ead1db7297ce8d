import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService, StageWorkers } from '#osa/pipeline';
import { IngesterRunnerModule } from './ingester-runner.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
await startServiceTracing('ingester-runner');
const app = await bootstrapService('ingester-runner', (config) => IngesterRunnerModule.forRoot(config));
// Jobs are taken only now, with every module initialised and the port bound.
app.get(StageWorkers).start();
