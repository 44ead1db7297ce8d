import 'reflect-metadata';
import { bootstrapService } from '#osa/pipeline';
import { HookRunnerModule } from './hook-runner.module.js';

await bootstrapService('hook-runner', (config) => HookRunnerModule.forRoot(config));
