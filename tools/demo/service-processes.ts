import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts a built service as its own OS process, its output going to `<logDir>/<name>.log`. */
export function startService(repoRoot: string, name: string, env: Record<string, string>, logDir: string): ServiceProcess {
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/apps', name, 'src/main.js')], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, exited };
}

/** SIGTERM, then SIGKILL if the service has not stopped within the grace period. */
export async function stopService(service: ServiceProcess, graceMs = 10_000): Promise<void> {
  if (service.child.exitCode !== null) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}
