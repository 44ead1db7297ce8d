import 'reflect-metadata';
import { bootstrapService, StageWorkers } from '#osa/pipeline';
import { PublisherModule } from './publisher.module.js';

const app = await bootstrapService('publisher', (config) => PublisherModule.forRoot(config));
// Jobs are taken only now, with every module initialised and the port bound.
app.get(StageWorkers).start();
