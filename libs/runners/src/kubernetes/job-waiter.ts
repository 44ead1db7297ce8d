import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { ErrorKind, InfrastructureError, PermanentError, TransientError } from '#osa/domain';
import { describeContainer } from '../port/classify-exit.js';
import type { ContainerRunRequest } from '../port/container-runner.port.js';
import type { JobApiGateway } from './job-api.gateway.js';
import { imagePullProblem, type JobOutcome, jobOutcome, newestPod, unschedulableCondition } from './job-status.js';

/** A Job has reached Complete/SuccessCriteriaMet or Failed/FailureTarget. */
export interface SettledJob {
  job: V1Job;
  pod: V1Pod | undefined;
  outcome: JobOutcome;
  /** The pod's log tail as last read while it ran; for when the pod is gone before the final read. */
  sampledLogTail: string[];
}

/** A Job ended early by the waiter: its pod cannot start. The caller captures logs and deletes it. */
export class PodStartError extends Error {
  constructor(
    readonly error: InfrastructureError,
    readonly pod: V1Pod | undefined,
  ) {
    super(error.message);
    this.name = 'PodStartError';
    Object.setPrototypeOf(this, PodStartError.prototype);
  }
}

export interface WaitOptions {
  pollIntervalMs: number;
  schedulingTimeoutSeconds: number;
  logTailLines: number;
}

// How often the log tail of a running pod is kept while waiting, besides the reads near the deadline.
const LOG_SAMPLE_INTERVAL_MS = 10_000;

// A single 5xx or dropped connection during an hour-long wait should not fail the batch.
const TOLERATED_POLL_ERRORS = 3;

/**
 * Polls a Job and its pod until the Job's conditions say it finished. Polling is the source of
 * truth (watches drop silently). Ends early, with a PodStartError, when the pod cannot get its
 * image or stays Unschedulable past the scheduling timeout; with TransientError(vanished) when
 * the Job disappears or is replaced by another of the same name (different uid); and with a
 * TransientError when `signal` aborts, leaving the Job running for a restarted worker.
 */
export async function waitForJob(
  gateway: JobApiGateway,
  request: ContainerRunRequest,
  jobName: string,
  uid: string | undefined,
  options: WaitOptions,
): Promise<SettledJob> {
  const who = describeContainer(request);
  const context = { runId: request.runId, batchIndex: request.batchIndex, hook: request.hook, job: jobName };
  let unschedulableSince: number | undefined;
  let pollErrors = 0;
  const sampler = new LogSampler(gateway, options);
  for (;;) {
    throwIfAborted(request, jobName);
    let job: V1Job;
    let pods: V1Pod[];
    try {
      job = await gateway.readJob(jobName);
      pods = await gateway.listJobPods(jobName);
      pollErrors = 0;
    } catch (err) {
      const tolerable = err instanceof TransientError && err.kind === ErrorKind.KubernetesApi;
      if (!tolerable || ++pollErrors > TOLERATED_POLL_ERRORS) throw err;
      await pause(options.pollIntervalMs, request, jobName);
      continue;
    }
    if (uid && job.metadata?.uid !== uid) {
      throw new TransientError(`Job ${jobName} was replaced by another Job of the same name while ${who} ran`, ErrorKind.Vanished, [], context);
    }
    const pod = newestPod(pods, job.metadata?.uid);
    const outcome = jobOutcome(job);
    if (outcome) return { job, pod, outcome, sampledLogTail: sampler.tail };
    await sampler.sample(job, pod);

    const pull = imagePullProblem(pod);
    if (pull) {
      const image = pull.image ?? request.image;
      throw new PodStartError(
        new PermanentError(`${who} cannot pull image "${image}" (${pull.reason}): ${pull.message ?? 'no message'}`, ErrorKind.ImagePull, [], {
          ...context,
          image,
        }),
        pod,
      );
    }
    const unschedulable = unschedulableCondition(pod);
    if (!unschedulable) {
      unschedulableSince = undefined;
    } else {
      // lastTransitionTime survives a worker restart; the local clock guards against a future stamp.
      const since = unschedulable.lastTransitionTime ? new Date(unschedulable.lastTransitionTime).getTime() : Date.now();
      unschedulableSince = Math.min(unschedulableSince ?? Date.now(), since);
      const waitedMs = Date.now() - unschedulableSince;
      if (waitedMs > options.schedulingTimeoutSeconds * 1000) {
        throw new PodStartError(
          new TransientError(
            `${who} pod could not be scheduled for ${Math.round(waitedMs / 1000)}s: ${unschedulable.message ?? 'Unschedulable'}`,
            ErrorKind.Unschedulable,
            [],
            context,
          ),
          pod,
        );
      }
    }
    await pause(options.pollIntervalMs, request, jobName);
  }
}

/**
 * Keeps the running pod's last log lines. When activeDeadlineSeconds expires, the Job controller
 * deletes the pod, and once the node has stopped it the pod (and with it `pods/log`) is gone,
 * often before the runner's next poll sees the Job fail: so the tail is also read on every poll
 * in the last two poll intervals before the deadline, and every 10 s before that.
 */
class LogSampler {
  tail: string[] = [];
  private lastSample = 0;

  constructor(
    private readonly gateway: JobApiGateway,
    private readonly options: WaitOptions,
  ) {}

  async sample(job: V1Job, pod: V1Pod | undefined): Promise<void> {
    const name = pod?.metadata?.name;
    if (!name || pod.status?.phase !== 'Running') return;
    const now = Date.now();
    const deadline = job.spec?.activeDeadlineSeconds;
    const started = job.status?.startTime ? new Date(job.status.startTime).getTime() : undefined;
    const nearDeadline = deadline !== undefined && started !== undefined && now >= started + deadline * 1000 - 2 * this.options.pollIntervalMs;
    if (!nearDeadline && now - this.lastSample < LOG_SAMPLE_INTERVAL_MS) return;
    this.lastSample = now;
    const tail = await this.gateway.readLogTail(name, this.options.logTailLines);
    if (tail.length) this.tail = tail;
  }
}

function throwIfAborted(request: ContainerRunRequest, jobName: string): void {
  if (request.signal?.aborted) throw abortedError(request, jobName);
}

function abortedError(request: ContainerRunRequest, jobName: string): TransientError {
  return new TransientError(
    `stopped waiting for ${describeContainer(request)} because its job was cancelled; Job ${jobName} keeps running and a restarted worker re-attaches to it`,
    ErrorKind.Unexpected,
    [],
    { runId: request.runId, batchIndex: request.batchIndex, hook: request.hook, job: jobName },
    { cause: request.signal?.reason },
  );
}

async function pause(ms: number, request: ContainerRunRequest, jobName: string): Promise<void> {
  try {
    await sleep(ms, undefined, { signal: request.signal });
  } catch {
    throw abortedError(request, jobName);
  }
}
