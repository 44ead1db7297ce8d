import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { LogTail } from './log-tail.js';
import { processGroupRss } from './process-tree-memory.js';

export interface SuperviseOptions {
  /** argv; the first element is the program. Never run through a shell. */
  command: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Resident memory of the whole process tree above which it is killed as the OOM killer would. */
  memoryBytes: number;
  signal?: AbortSignal;
  /** How many of the last output lines to keep. @defaultValue 50 */
  logLines?: number;
  /** Also append the full output here. */
  logFile?: string;
  /** How often to sample resident memory. @defaultValue 50 */
  sampleIntervalMs?: number;
}

export interface SupervisedExit {
  exitCode: number | null;
  signal: string | null;
  reason: 'exited' | 'oom' | 'timeout' | 'aborted' | 'spawn_failed';
  logTail: string[];
  peakRssBytes: number;
  durationMs: number;
  spawnError?: string;
}

/**
 * Runs a command as its own process group and watches it: kills the group on timeout, on
 * abort, or when the group's resident memory passes the limit (exit 137, like OOMKilled).
 */
export function superviseProcess(options: SuperviseOptions): Promise<SupervisedExit> {
  const started = Date.now();
  const tail = new LogTail(options.logLines ?? 50);
  const logFile = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const [program, ...args] = options.command;

  return new Promise((resolve) => {
    let reason: SupervisedExit['reason'] = 'exited';
    let peakRssBytes = 0;
    let settled = false;
    const child = spawn(program!, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });

    const killGroup = (why: SupervisedExit['reason']) => {
      if (reason === 'exited') reason = why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };

    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail.push(text);
      logFile?.write(text);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);

    const timeout = setTimeout(() => killGroup('timeout'), options.timeoutMs);
    const onAbort = () => killGroup('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    let sampling = false;
    const sampler = setInterval(async () => {
      if (sampling || !child.pid) return;
      sampling = true;
      const rss = await processGroupRss(child.pid);
      sampling = false;
      peakRssBytes = Math.max(peakRssBytes, rss);
      if (rss > options.memoryBytes) killGroup('oom');
    }, options.sampleIntervalMs ?? 50);

    const finish = (exit: Omit<SupervisedExit, 'reason' | 'logTail' | 'peakRssBytes' | 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearInterval(sampler);
      options.signal?.removeEventListener('abort', onAbort);
      // Orphans left in the group (a forked child) must not outlive the container.
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Group already empty.
        }
      }
      const result: SupervisedExit = {
        ...exit,
        reason,
        logTail: tail.snapshot(),
        peakRssBytes,
        durationMs: Date.now() - started,
      };
      if (reason === 'oom') result.exitCode = 137;
      if (logFile) logFile.end(() => resolve(result));
      else resolve(result);
    };

    child.on('error', (err) => {
      reason = 'spawn_failed';
      finish({ exitCode: null, signal: null, spawnError: err.message });
    });
    child.on('close', (exitCode, signal) => finish({ exitCode, signal }));
  });
}
