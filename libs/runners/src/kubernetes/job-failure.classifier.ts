import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { ErrorKind, formatMemory, OOMError, TransientError } from '#osa/domain';
import { describeContainer, exitError } from '../port/classify-exit.js';
import type { ContainerRunRequest } from '../port/container-runner.port.js';
import { disruption, jobFailure, terminatedState } from './job-status.js';

export interface FinishedJob {
  request: ContainerRunRequest;
  job: V1Job;
  pod: V1Pod | undefined;
  memoryBytes: number;
  logTail: string[];
}

function context(request: ContainerRunRequest, job: V1Job) {
  return { runId: request.runId, batchIndex: request.batchIndex, hook: request.hook, job: job.metadata?.name };
}

/**
 * A pod killed for memory, whatever the Job says: Kubernetes can mark a Job succeeded although
 * its container was OOMKilled (kubernetes/kubernetes#131530), so success is checked too.
 */
export function oomError({ request, job, pod, memoryBytes, logTail }: FinishedJob): OOMError | undefined {
  if (terminatedState(pod)?.reason !== 'OOMKilled') return undefined;
  return new OOMError(
    `${describeContainer(request)} was killed for exceeding its memory limit of ${formatMemory(memoryBytes)} (OOMKilled, exit 137)`,
    memoryBytes,
    logTail,
    context(request, job),
  );
}

/**
 * Why a Job with a Failed/FailureTarget condition failed, in the pipeline's failure taxonomy
 * (docs/architecture.md).
 */
export function failedJobError(finished: FinishedJob): Error {
  const { request, job, pod, logTail } = finished;
  const who = describeContainer(request);
  const failure = jobFailure(job);
  if (failure.reason === 'DeadlineExceeded') {
    // The same kind as the local runner's timeout: the hook stage keeps a killed hook's finished
    // outcomes only for that kind, so a different one would restart a timed-out hook from zero.
    return new TransientError(
      `${who} exceeded its timeout of ${request.limits.timeout_seconds}s (Job ${job.metadata?.name}: ${failure.message ?? 'DeadlineExceeded'})`,
      ErrorKind.Timeout,
      logTail,
      context(request, job),
    );
  }
  const oom = oomError(finished);
  if (oom) return oom;
  // The pod failure policy fails the Job on DisruptionTarget; the pod itself may be gone already.
  const disrupted = disruption(pod) ?? (failure.reason === 'PodFailurePolicy' ? (failure.message ?? 'DisruptionTarget') : undefined);
  if (disrupted) {
    return new TransientError(
      `${who} pod ${pod?.metadata?.name ?? `of Job ${job.metadata?.name}`} was evicted: ${disrupted}`,
      ErrorKind.Evicted,
      logTail,
      context(request, job),
    );
  }
  if (!pod || pod.metadata?.deletionTimestamp) {
    // Someone deleted the pod while it ran: the Job controller counts it failed, and what the
    // container exited with (SIGTERM from the kubelet, if anything) says nothing about the work.
    return new TransientError(
      `${who} pod ${pod?.metadata?.name ?? 'of Job ' + job.metadata?.name} was deleted before it finished (Job ${job.metadata?.name}: ${failure.reason ?? 'failed'})`,
      ErrorKind.Vanished,
      logTail,
      context(request, job),
    );
  }
  const exitCode = terminatedState(pod)?.exitCode;
  if (exitCode !== undefined && exitCode !== 0) return exitError(request, exitCode, logTail);
  return new TransientError(
    `Job ${job.metadata?.name} failed (${failure.reason ?? 'unknown reason'}: ${failure.message ?? 'no message'}) without a pod exit to explain it`,
    ErrorKind.Unexpected,
    logTail,
    context(request, job),
  );
}
