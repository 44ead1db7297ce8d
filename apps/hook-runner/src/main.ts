import 'reflect-metadata';
import { bootstrapService, StageWorkers } from '#osa/pipeline';
import { HookRunnerModule } from './hook-runner.module.js';

const app = await bootstrapService('hook-runner', (config) => HookRunnerModule.forRoot(config));
// Jobs are taken only now, with every module initialised and the port bound.
app.get(StageWorkers).start();
