import { readFile } from 'node:fs/promises';
import { startService, type ServiceProcess } from '../demo/service-processes.js';
import { type BenchEnvironment, REPO_ROOT, sleep, until } from './common.js';

export const STAGE_SERVICES = ['ingester-runner', 'hook-runner', 'publisher'] as const;

/**
 * Starts the three stage services as OS processes on the bench's stores, pushing each into
 * `services` as it starts (so the caller's cleanup stops even a half-started set), and waits
 * until every one is live.
 */
export async function startStageServices(
  env: BenchEnvironment,
  services: ServiceProcess[],
  options: { root?: string; env?: Record<string, string> } = {},
): Promise<void> {
  const basePort = 41000 + Math.floor(Math.random() * 20000);
  const serviceEnv = {
    REDIS_URL: env.config.redisUrl,
    DATABASE_URL: env.database.url,
    DATA_DIR: env.dataDir,
    QUEUE_PREFIX: env.prefix,
    LOCAL_RUNNER_CWD: REPO_ROOT,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  STAGE_SERVICES.forEach((name, i) =>
    services.push(startService(options.root ?? REPO_ROOT, name, { ...serviceEnv, PORT: String(basePort + i) }, env.dataDir)),
  );
  for (const [i, service] of services.entries()) {
    await until(
      `${service.name} to be ready`,
      async () => (await fetch(`http://127.0.0.1:${basePort + i}/health/live`).catch(() => undefined))?.ok,
      30_000,
      100,
    );
  }
  // Let start-up allocations settle before anything is measured.
  await sleep(500);
}

/** VmRSS / VmHWM (resident and peak resident set) of a process, in bytes. */
export async function processMemory(pid: number): Promise<{ VmRSS: number; VmHWM: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) * 1024;
  return { VmRSS: kb('VmRSS'), VmHWM: kb('VmHWM') };
}
