import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ErrorKind, formatMemory, OOMError, PermanentError, parseMemory, TransientError } from '#osa/domain';
import { describeContainer, exitError } from '../port/classify-exit.js';
import type { CapacityReport, ContainerRunner, ContainerRunRequest, ContainerRunResult } from '../port/container-runner.port.js';
import { containerScope, newContainerId, supervisedHere } from './container-marker.js';
import { LocalSlots } from './local-slots.js';
import { type ReapReport, reapOrphanContainers } from './orphan-containers.reaper.js';
import { superviseProcess } from './process-supervisor.js';

export interface LocalRunnerOptions {
  /** Root that request dirs are relative to (DATA_DIR). */
  dataDir: string;
  /** Working directory of the commands, so convention commands can name repo-relative scripts. */
  cwd: string;
  /** How many containers may run at once before capacity() reports pressure. */
  slots: number;
  /** How often resident memory is sampled. @defaultValue 50 */
  sampleIntervalMs?: number;
}

/**
 * Runs containers as local processes with the same view a Kubernetes Job gets: argv without a
 * shell, the contract's env and directories, a timeout and a memory limit enforced by sampling.
 * A container is all the processes it starts; they end together when its first process ends.
 */
export class LocalProcessRunner implements ContainerRunner {
  private readonly slots: LocalSlots;
  private readonly scope: string;
  /**
   * The start-up reaping: containers that a previous incarnation of a service on this DATA_DIR
   * left running when it died are killed before this runner runs or counts anything.
   */
  readonly orphansReaped: Promise<ReapReport>;

  constructor(private readonly options: LocalRunnerOptions) {
    if (!options.dataDir) throw new Error('local runner: dataDir must not be empty');
    if (!Number.isInteger(options.slots) || options.slots < 1) {
      throw new Error(`local runner: slots must be a positive integer, got ${options.slots}`);
    }
    this.scope = containerScope(options.dataDir);
    this.slots = new LocalSlots(path.join(options.dataDir, '.local-runner', 'slots'));
    this.orphansReaped = reapOrphanContainers(this.scope);
    // A failure surfaces where the runner is used (run, capacity), not as an unhandled rejection.
    this.orphansReaped.catch(() => undefined);
  }

  /** Slots are shared by every stage process on this machine, as the machine's cores are. */
  async capacity(): Promise<CapacityReport> {
    await this.orphansReaped;
    const busy = await this.slots.busy();
    if (busy < this.options.slots) return { available: true };
    return {
      available: false,
      signal: 'local_slots',
      message: `all ${this.options.slots} local runner slots are busy (${busy} containers running on this machine)`,
    };
  }

  async run(request: ContainerRunRequest): Promise<ContainerRunResult> {
    const dirs = {
      in: path.join(this.options.dataDir, request.dirs.in),
      out: path.join(this.options.dataDir, request.dirs.out),
      files: path.join(this.options.dataDir, request.dirs.files),
    };
    await Promise.all([mkdir(dirs.in, { recursive: true }), mkdir(dirs.out, { recursive: true }), mkdir(dirs.files, { recursive: true })]);
    const memoryBytes = request.memoryBytes ?? parseMemory(request.limits.memory)!;
    const who = describeContainer(request);
    const context = { runId: request.runId, batchIndex: request.batchIndex, hook: request.hook };

    await this.orphansReaped;
    // Kills the containers (and frees the slots) of services that died since: a job retried here
    // after its service died must not run next to the copy that service left running.
    await this.slots.busy();
    const exit = await this.inSlot((containerId) =>
      superviseProcess({
        containerId,
        command: request.command,
        cwd: this.options.cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dirs.out,
          LANG: 'C.UTF-8',
          ...request.env,
          OSA_IN: dirs.in,
          OSA_OUT: dirs.out,
          OSA_FILES: dirs.files,
        },
        timeoutMs: request.limits.timeout_seconds * 1000,
        memoryBytes,
        signal: request.signal,
        sampleIntervalMs: this.options.sampleIntervalMs,
        logFile: `${dirs.out}.log`,
      }),
    );

    switch (exit.reason) {
      case 'spawn_failed':
        throw new PermanentError(`${who} could not start "${request.command[0]}": ${exit.spawnError}`, ErrorKind.InvalidConvention, [], context);
      case 'oom':
        throw new OOMError(
          `${who} was killed for exceeding its memory limit of ${formatMemory(memoryBytes)} (OOMKilled, exit 137)`,
          memoryBytes,
          exit.logTail,
          context,
        );
      case 'timeout':
        throw new TransientError(`${who} exceeded its timeout of ${request.limits.timeout_seconds}s`, ErrorKind.Timeout, exit.logTail, context);
      case 'aborted':
        throw new TransientError(`${who} was stopped because its job was cancelled`, ErrorKind.Unexpected, exit.logTail, context);
      case 'exited':
        if (exit.exitCode === 0) {
          return { exitCode: 0, logTail: exit.logTail, durationMs: exit.durationMs, reused: false };
        }
        if (exit.exitCode === null) {
          // Killed by a signal nobody here sent (e.g. the kernel): treat like a vanished pod.
          throw new TransientError(`${who} was killed by ${exit.signal}`, ErrorKind.Vanished, exit.logTail, context);
        }
        throw exitError(request, exit.exitCode, exit.logTail);
    }
  }

  /** Runs `work` for a new container holding a slot; it counts as supervised for as long as the slot exists. */
  private async inSlot<T>(work: (containerId: string) => Promise<T>): Promise<T> {
    const containerId = newContainerId(this.scope);
    // Before the slot exists, so no other worker frees the slot as an orphan's before the container starts.
    supervisedHere.add(containerId);
    try {
      const slot = await this.slots.take(containerId);
      try {
        return await work(containerId);
      } finally {
        await slot.release();
      }
    } finally {
      supervisedHere.delete(containerId);
    }
  }
}
