import 'reflect-metadata';
import { bootstrapService, StageWorkers } from '#osa/pipeline';
import { IngesterRunnerModule } from './ingester-runner.module.js';

const app = await bootstrapService('ingester-runner', (config) => IngesterRunnerModule.forRoot(config));
// Jobs are taken only now, with every module initialised and the port bound.
app.get(StageWorkers).start();
