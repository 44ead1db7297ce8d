import 'reflect-metadata';
import { bootstrapService } from '#osa/pipeline';
import { DashboardModule } from './dashboard.module.js';

await bootstrapService('dashboard', (config) => DashboardModule.forRoot(config));
