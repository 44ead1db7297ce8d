import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { CONTAINER_ID_ENV, newContainerId, supervisedHere, UNSCOPED } from './container-marker.js';
import { ContainerProcesses } from './container-processes.js';
import { LogTail } from './log-tail.js';
import { readProcessSync } from './process-table.reader.js';

/** How long output already written may still be read once the container is dead. */
const DRAIN_MS = 1_000;

/** Containers being supervised in this process, killed when it exits (e.g. after its shutdown grace). */
const running = new Set<ContainerProcesses>();
let killOnExit = false;
function track(processes: ContainerProcesses): void {
  if (!killOnExit) {
    killOnExit = true;
    process.once('exit', () => running.forEach((p) => p.killKnownNow()));
  }
  running.add(processes);
}

export interface SuperviseOptions {
  /** argv; the first element is the program. Never run through a shell. */
  command: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Resident memory of all the container's processes above which they are killed as the OOM killer would. */
  memoryBytes: number;
  signal?: AbortSignal;
  /** How many of the last output lines to keep. @defaultValue 50 */
  logLines?: number;
  /** Also append the full output here. */
  logFile?: string;
  /** How often to sample resident memory; every 5th sample also looks for processes that detached. @defaultValue 50 */
  sampleIntervalMs?: number;
  /**
   * The container's id, given to every process it starts as `OSA_CONTAINER_ID` (see `newContainerId`).
   * @defaultValue a new id outside any DATA_DIR scope
   */
  containerId?: string;
}

export interface SupervisedExit {
  exitCode: number | null;
  signal: string | null;
  reason: 'exited' | 'oom' | 'timeout' | 'aborted' | 'spawn_failed';
  logTail: string[];
  peakRssBytes: number;
  durationMs: number;
  spawnError?: string;
  /** Processes of the container still alive after it was killed (0 unless one could not be killed). */
  survivors: number;
}

/**
 * Runs a command as a container of processes and watches it. The container ends when its first
 * process exits, or on timeout, on abort, or when the resident memory of its processes passes
 * the limit (exit 137, like OOMKilled): then every process it started is killed, including those
 * that left its process group or were reparented, and output still held open by one of them is
 * no longer waited for.
 */
export function superviseProcess(options: SuperviseOptions): Promise<SupervisedExit> {
  const started = Date.now();
  const tail = new LogTail(options.logLines ?? 50);
  const logFile = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  // The full log is a convenience (the tail is kept in memory): a file that cannot be written must
  // not take the service down with an unhandled 'error'.
  logFile?.on('error', () => undefined);
  const [program, ...args] = options.command;
  const containerId = options.containerId ?? newContainerId(UNSCOPED);
  // The id first, so a bounded read of a process' environment finds it; the caller cannot override it.
  const env: Record<string, string> = { [CONTAINER_ID_ENV]: containerId };
  for (const [name, value] of Object.entries(options.env)) if (name !== CONTAINER_ID_ENV) env[name] = value;

  return new Promise((resolve) => {
    let peakRssBytes = 0;
    let ending = false;
    const child = spawn(program!, args, {
      env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own session and process group, so a signal to this service does not reach it.
      detached: true,
    });
    // Read before the child can be reaped (that happens on the event loop): its start time tells
    // its pid apart from a later process that reuses it.
    const leaderInfo = child.pid ? readProcessSync(child.pid) : undefined;
    const processes = child.pid ? new ContainerProcesses(containerId, { pid: child.pid, startTicks: leaderInfo?.startTicks ?? 0 }) : undefined;
    if (processes) track(processes);
    // A caller that made the id (the local runner, which names a slot by it) registers it itself.
    const registered = !supervisedHere.has(containerId);
    if (registered) supervisedHere.add(containerId);
    const closed = new Promise<void>((resolveClosed) => child.on('close', () => resolveClosed()));

    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail.push(text);
      logFile?.write(text);
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);

    const end = async (reason: SupervisedExit['reason'], exit: Pick<SupervisedExit, 'exitCode' | 'signal' | 'spawnError'>) => {
      if (ending) return;
      ending = true;
      clearTimeout(timeout);
      clearInterval(sampler);
      options.signal?.removeEventListener('abort', onAbort);
      const { survivors } = processes ? await processes.killAll() : { survivors: 0 };
      if (processes) running.delete(processes);
      // Output written before the end is still in the pipes; once every writer is dead they close.
      // A writer that could not be killed must not keep the container running: stop reading.
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((r) => (drainTimer = setTimeout(r, DRAIN_MS)))]);
      clearTimeout(drainTimer);
      child.stdout.destroy();
      child.stderr.destroy();
      if (registered) supervisedHere.delete(containerId);
      if (survivors > 0) tail.push(`\n[supervisor] ${survivors} process(es) of this container could not be killed\n`);
      const result: SupervisedExit = {
        ...exit,
        reason,
        logTail: tail.snapshot(),
        peakRssBytes,
        durationMs: Date.now() - started,
        survivors,
      };
      if (reason === 'oom') result.exitCode = 137;
      if (logFile) logFile.end(() => resolve(result));
      else resolve(result);
    };
    const kill = (why: 'oom' | 'timeout' | 'aborted') => void end(why, { exitCode: null, signal: 'SIGKILL' });

    const timeout = setTimeout(() => kill('timeout'), options.timeoutMs);
    let sampling = false;
    const sample = async () => {
      if (sampling || ending || !processes) return;
      sampling = true;
      const rss = await processes.residentBytes();
      sampling = false;
      peakRssBytes = Math.max(peakRssBytes, rss);
      if (rss > options.memoryBytes) kill('oom');
    };
    const sampler = setInterval(() => void sample(), options.sampleIntervalMs ?? 50);
    // Last: an already aborted signal ends the container at once, which clears the timers above.
    const onAbort = () => kill('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    child.on('error', (err) => void end('spawn_failed', { exitCode: null, signal: null, spawnError: err.message }));
    // The first process' exit ends the container, as it ends a pod's container: processes it left
    // behind (even ones holding its output open) are killed, not waited for.
    child.on('exit', (exitCode, signal) => void end('exited', { exitCode, signal }));
  });
}
