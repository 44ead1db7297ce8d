import 'reflect-metadata';
import { bootstrapService } from '#osa/pipeline';
import { IngesterRunnerModule } from './ingester-runner.module.js';

await bootstrapService('ingester-runner', (config) => IngesterRunnerModule.forRoot(config));
