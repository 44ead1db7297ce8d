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
for (const name of env.ignored) {
  console.warn(
    `dashboard: ${name} is set but no longer used — Bull Board (/queues) takes the API's credentials: sign in at /login with an API token (runs:read to view, ingestions:write to change queues)`,
  );
}
if (env.insecureDev) console.warn('dashboard: DASHBOARD_INSECURE_DEV=true — routes without credentials configured are served unauthenticated');
if (!env.sessionSecret) {
  console.warn(
    'dashboard: SESSION_SECRET unset — browser sessions are signed with a random key of this process: they end when it restarts and are not shared between replicas',
  );
}

await bootstrapService('dashboard', (config) => DashboardModule.forRoot(config, env));
