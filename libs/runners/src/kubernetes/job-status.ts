import type { V1Job, V1Pod, V1PodCondition } from '@kubernetes/client-node';

export type JobOutcome = 'succeeded' | 'failed';

const isTrue = (c: { status?: string }) => c.status === 'True';

/**
 * The Job's outcome from its conditions only (never from succeeded/failed counts):
 * SuccessCriteriaMet/Complete vs FailureTarget/Failed; undefined while it is still running.
 */
export function jobOutcome(job: V1Job): JobOutcome | undefined {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => isTrue(c) && (c.type === 'Failed' || c.type === 'FailureTarget'))) return 'failed';
  if (conditions.some((c) => isTrue(c) && (c.type === 'Complete' || c.type === 'SuccessCriteriaMet'))) return 'succeeded';
  return undefined;
}

/** The reason of the Job's failure condition, e.g. DeadlineExceeded or BackoffLimitExceeded. */
export function jobFailure(job: V1Job): { reason?: string; message?: string } {
  const c = (job.status?.conditions ?? []).find((x) => isTrue(x) && (x.type === 'Failed' || x.type === 'FailureTarget'));
  return { reason: c?.reason, message: c?.message };
}

/** The Job's newest pod; pods of a re-created Job of the same name are skipped by owner uid. */
export function newestPod(pods: readonly V1Pod[], jobUid: string | undefined): V1Pod | undefined {
  const owned = pods.filter((p) => {
    const owners = p.metadata?.ownerReferences ?? [];
    return owners.length === 0 || owners.some((o) => o.uid === jobUid);
  });
  return owned.sort((a, b) => time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp))[0];
}

function time(value: Date | string | undefined): number {
  return value ? new Date(value).getTime() : 0;
}

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** A container that cannot get its image: waiting with ErrImagePull / ImagePullBackOff. */
export function imagePullProblem(pod: V1Pod | undefined): { image?: string; reason: string; message?: string } | undefined {
  for (const status of pod?.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return { image: status.image, reason: waiting.reason, message: waiting.message };
    }
  }
  return undefined;
}

/** PodScheduled False with reason Unschedulable: the scheduler found no node (not merely "being placed"). */
export function unschedulableCondition(pod: V1Pod | undefined): V1PodCondition | undefined {
  if (pod?.status?.phase !== 'Pending') return undefined;
  return pod.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
}

/** The first terminated container state of the pod, where exit code and reason (OOMKilled) live. */
export function terminatedState(pod: V1Pod | undefined) {
  for (const status of pod?.status?.containerStatuses ?? []) {
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    if (terminated) return terminated;
  }
  return undefined;
}

/** Evicted (kubelet pressure) or disrupted (preemption, eviction API, node drain). */
export function disruption(pod: V1Pod | undefined): string | undefined {
  if (!pod?.status) return undefined;
  if (pod.status.reason === 'Evicted') return pod.status.message ?? 'pod was evicted';
  const target = pod.status.conditions?.find((c) => c.type === 'DisruptionTarget' && isTrue(c));
  return target ? `${target.reason ?? 'DisruptionTarget'}: ${target.message ?? 'pod was disrupted'}` : undefined;
}
