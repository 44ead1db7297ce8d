import type { CapacitySignal, ContainerDirs, ContainerLimits } from '#osa/domain';

export type ContainerRole = 'ingester' | 'hook';

/** Everything a runner needs to run one container for one (run, batch, stage, attempt). */
export interface ContainerRunRequest {
  role: ContainerRole;
  runId: string;
  batchIndex: number;
  /** Hook name; absent for the ingester. */
  hook?: string;
  /** Unique per start of the stage job, so a retry never reuses a half-written output. */
  attempt: number;
  /** Sub-run within the attempt (OOM retries and bisection of a hook); 0 for the first. */
  step?: number;
  image?: string;
  command: readonly string[];
  limits: ContainerLimits;
  /** Memory override in bytes (OOM escalation); defaults to limits.memory. */
  memoryBytes?: number;
  /** Exit codes of an ingester that mean "do not retry". */
  permanentExitCodes?: readonly number[];
  /** Extra contract env (OSA_LIMIT, OSA_BATCH_INDEX, OSA_RUN_ID); OSA_IN/OUT/FILES are set by the runner. */
  env: Record<string, string>;
  dirs: ContainerDirs;
  signal?: AbortSignal;
}

export interface ContainerRunResult {
  exitCode: 0;
  /** The last lines the container printed (stdout and stderr interleaved). */
  logTail: string[];
  durationMs: number;
  /** True when the runner reused the output of a container that had already succeeded. */
  reused: boolean;
}

/** Why the runner cannot take more work now, in the scheduler's own words. */
export interface CapacityReport {
  available: boolean;
  signal?: CapacitySignal;
  message?: string;
}

/**
 * Runs ingester and hook containers. Implementations: local processes and Kubernetes Jobs.
 * `run` resolves only on exit code 0; every failure is thrown as a TransientError,
 * PermanentError or OOMError with the container's last log lines.
 */
export interface ContainerRunner {
  run(request: ContainerRunRequest): Promise<ContainerRunResult>;
  capacity(): Promise<CapacityReport>;
}

export const CONTAINER_RUNNER = Symbol('CONTAINER_RUNNER');
