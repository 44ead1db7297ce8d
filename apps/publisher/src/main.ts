import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService } from '#osa/pipeline';
import { PublisherModule } from './publisher.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
startServiceTracing('publisher');
await bootstrapService('publisher', (config) => PublisherModule.forRoot(config));
