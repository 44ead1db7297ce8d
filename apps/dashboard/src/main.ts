import 'reflect-metadata';
import { startServiceTracing } from '#osa/observability';
import { bootstrapService } from '#osa/pipeline';
import { DashboardConfigError, type DashboardEnv, loadDashboardEnv } from './dashboard-env.js';
import { DashboardModule } from './dashboard.module.js';

// First, before the application module is built: its queues and workers take their telemetry then.
await startServiceTracing('dashboard');
let env: DashboardEnv;
try {
  env = loadDashboardEnv();
} catch (err) {
  if (!(err instanceof DashboardConfigError)) throw err;
  console.error(`dashboard: ${err.message}`);
  process.exit(2);
}
if (env.insecureDev) console.warn('dashboard: DASHBOARD_INSECURE_DEV=true — routes without credentials configured are served unauthenticated');
if (!env.sessionSecret) {
  console.warn(
    'dashboard: SESSION_SECRET unset — browser sessions are signed with a random key of this process: they end when it restarts and are not shared between replicas',
  );
}

await bootstrapService('dashboard', (config) => DashboardModule.forRoot(config, env));
