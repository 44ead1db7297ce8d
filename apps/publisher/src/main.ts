import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService, StageWorkers } from '#osa/pipeline';
import { PublisherModule } from './publisher.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
await startServiceTracing('publisher');
const app = await bootstrapService('publisher', (config) => PublisherModule.forRoot(config));
// Jobs are taken only now, with every module initialised and the port bound.
app.get(StageWorkers).start();
