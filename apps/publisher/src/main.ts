import 'reflect-metadata';
import { bootstrapService } from '#osa/pipeline';
import { PublisherModule } from './publisher.module.js';

await bootstrapService('publisher', (config) => PublisherModule.forRoot(config));
