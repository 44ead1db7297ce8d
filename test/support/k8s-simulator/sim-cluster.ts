import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SupervisedExit } from '#osa/runners';
import { FaultBook, type PodFault } from './fault-injection.js';
import { clone, condition, newUid, nextResourceVersion, notFound, now, type Obj, podSuffix, setCondition, SimApiError } from './k8s-objects.js';
import { validateJob } from './job-validation.js';
import { executePod } from './pod-executor.js';
import { PodStatus } from './pod-lifecycle.js';

export interface ClusterOptions {
  dataRoot: string;
  pvcName: string;
  namespaces: string[];
  images: Record<string, readonly string[]>;
  cwd: string;
  /** Multiplies ttlSecondsAfterFinished; 0 deletes a Job the moment it finishes. */
  ttlScale: number;
  memorySampleIntervalMs?: number;
}

type StopReason = 'deadline' | 'evict' | 'oom' | 'deleted';

interface SimPod {
  obj: Obj;
  abort: AbortController;
  stop?: StopReason;
  evictMessage?: string;
  logFile: string;
  schedule?: () => void;
}

interface SimJob {
  obj: Obj;
  timers: NodeJS.Timeout[];
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;
const tick = () => new Promise((r) => setTimeout(r, 5));
// A simulated controller's timer must never keep a test process alive.
const later = (fn: () => void, ms: number) => setTimeout(fn, ms).unref();

/**
 * The simulated control plane: stores Jobs and pods and plays the Job controller, scheduler and
 * kubelet for them. Each Job gets one pod (backoffLimit semantics beyond 0 are not simulated).
 */
export class SimCluster {
  readonly jobs = new Map<string, SimJob>();
  readonly pods = new Map<string, SimPod>();
  readonly faults = new FaultBook();
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(readonly options: ClusterOptions) {}

  createJob(namespace: string, body: Obj): Obj {
    if (!this.options.namespaces.includes(namespace)) {
      throw SimApiError.of(404, `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    }
    validateJob(body);
    const name = body.metadata.name as string;
    if (this.jobs.has(key(namespace, name))) {
      throw SimApiError.of(409, `jobs.batch "${name}" already exists`, { name, group: 'batch', kind: 'jobs' });
    }
    const uid = newUid();
    const selectorLabels = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
    const obj: Obj = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { ...clone(body.metadata), namespace, uid, resourceVersion: nextResourceVersion(), generation: 1, creationTimestamp: now() },
      spec: {
        parallelism: 1,
        completions: 1,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        manualSelector: false,
        ...clone(body.spec),
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      },
      status: {},
    };
    obj.metadata.labels = { ...obj.metadata.labels, ...selectorLabels };
    obj.spec.template.metadata = { ...obj.spec.template.metadata, labels: { ...obj.spec.template.metadata?.labels, ...selectorLabels } };
    const job: SimJob = { obj, timers: [] };
    this.jobs.set(key(namespace, name), job);
    this.track(this.startJob(job));
    return clone(obj);
  }

  job(namespace: string, name: string): SimJob {
    const job = this.jobs.get(key(namespace, name));
    if (!job) throw notFound('jobs', name);
    return job;
  }

  pod(namespace: string, name: string): SimPod {
    const pod = this.pods.get(key(namespace, name));
    if (!pod) throw notFound('pods', name);
    return pod;
  }

  /** Deletes a Job; Background/Foreground remove its pods, anything else orphans them (batch/v1 default). */
  deleteJob(namespace: string, name: string, propagationPolicy: string | undefined): Obj {
    const job = this.job(namespace, name);
    job.timers.forEach(clearTimeout);
    this.jobs.delete(key(namespace, name));
    for (const pod of this.podsOf(job)) {
      if (propagationPolicy === 'Background' || propagationPolicy === 'Foreground') setImmediate(() => this.deletePod(pod));
      else pod.obj.metadata.ownerReferences = [];
    }
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, group: 'batch', kind: 'jobs', uid: job.obj.metadata.uid },
    };
  }

  /** Lets every Unschedulable pod be scheduled now. */
  makeSchedulable(): void {
    for (const pod of this.pods.values()) pod.schedule?.();
  }

  /** Runs the TTL controller now for every finished Job that has a TTL. */
  expireTtl(): void {
    for (const job of [...this.jobs.values()]) {
      if (job.obj.status.completionTime || isFailed(job.obj)) {
        if (job.obj.spec.ttlSecondsAfterFinished !== undefined) this.deleteJob(job.obj.metadata.namespace, job.obj.metadata.name, 'Background');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.jobs.values()) job.timers.forEach(clearTimeout);
    for (const pod of this.pods.values()) this.stopPod(pod, 'deleted');
    await Promise.allSettled([...this.running]);
  }

  podsOf(job: SimJob): SimPod[] {
    return [...this.pods.values()].filter((p) => p.obj.metadata.labels['batch.kubernetes.io/controller-uid'] === job.obj.metadata.uid);
  }

  private track(promise: Promise<unknown>): void {
    const p = promise.catch(() => undefined).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  private async startJob(job: SimJob): Promise<void> {
    await tick();
    if (this.closed) return;
    const { obj } = job;
    Object.assign(obj.status, { startTime: now(), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    const deadline = obj.spec.activeDeadlineSeconds;
    if (deadline) job.timers.push(later(() => this.exceedDeadline(job), deadline * 1000));
    const pod = this.createPod(job);
    await this.runPod(job, pod, this.faults.takePod(pod.obj.spec.containers[0].image));
  }

  private createPod(job: SimJob): SimPod {
    const { metadata, spec } = job.obj;
    const name = `${metadata.name.slice(0, 57)}-${podSuffix()}`;
    const obj: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${metadata.name.slice(0, 57)}-`,
        namespace: metadata.namespace,
        uid: newUid(),
        resourceVersion: nextResourceVersion(),
        creationTimestamp: now(),
        labels: clone(spec.template.metadata.labels),
        annotations: { ...clone(spec.template.metadata.annotations ?? {}), 'batch.kubernetes.io/job-tracking': '' },
        finalizers: ['batch.kubernetes.io/job-tracking'],
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: metadata.name, uid: metadata.uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: clone(spec.template.spec),
      status: { phase: 'Pending', conditions: [], qosClass: 'Guaranteed' },
    };
    const pod: SimPod = { obj, abort: new AbortController(), logFile: path.join(tmpdir(), `k8s-sim-${obj.metadata.uid}.log`) };
    this.pods.set(key(metadata.namespace, name), pod);
    return pod;
  }

  private async runPod(job: SimJob, pod: SimPod, fault: PodFault | undefined): Promise<void> {
    const container = pod.obj.spec.containers[0];
    if (fault?.type === 'unschedulable') {
      PodStatus.unschedulable(
        pod.obj,
        fault.message ??
          '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
      );
      await new Promise<void>((resolve) => {
        pod.schedule = resolve;
        pod.abort.signal.addEventListener('abort', () => resolve(), { once: true });
        if (fault.untilMs !== undefined) job.timers.push(later(resolve, fault.untilMs));
      });
      pod.schedule = undefined;
      if (pod.stop) return;
    }
    PodStatus.scheduled(pod.obj, container);
    await tick();
    const argv = this.options.images[container.image] ?? [...(container.command ?? []), ...(container.args ?? [])];
    if (fault?.type === 'image-pull' || argv.length === 0) {
      await this.failImagePull(pod, container.image, fault?.type === 'image-pull' ? fault.message : undefined);
      return;
    }
    PodStatus.running(pod.obj);
    job.obj.status.ready = 1;
    let exit: Pick<SupervisedExit, 'exitCode' | 'reason'>;
    if (fault?.type === 'exit') {
      await writeFile(pod.logFile, (fault.output ?? []).map((l) => `${l}\n`).join(''));
      exit = { exitCode: fault.exitCode, reason: 'exited' };
    } else {
      if (fault?.type === 'oom' || fault?.type === 'evict') {
        const stop = fault.type;
        job.timers.push(later(() => this.stopPod(pod, stop), fault.afterMs ?? 50));
      }
      exit = await executePod({
        pod: pod.obj,
        argv,
        dataRoot: this.options.dataRoot,
        pvcName: this.options.pvcName,
        cwd: this.options.cwd,
        logFile: pod.logFile,
        signal: pod.abort.signal,
        sampleIntervalMs: this.options.memorySampleIntervalMs,
      });
    }
    if (pod.stop === 'deleted' || pod.stop === 'deadline') return;
    if (pod.stop === 'evict') {
      const message = pod.evictMessage ?? (fault?.type === 'evict' ? fault.message : undefined);
      PodStatus.evicted(pod.obj, message ?? 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi.');
    } else if (pod.stop === 'oom' || exit.reason === 'oom') {
      const lies = fault?.type === 'oom' && fault.jobSucceeds;
      PodStatus.terminated(pod.obj, lies ? 0 : 137, 'OOMKilled', lies ? 'Succeeded' : 'Failed');
    } else if (exit.reason === 'spawn_failed') {
      PodStatus.terminated(pod.obj, 128, 'StartError', 'Failed');
    } else {
      const code = exit.exitCode ?? 137;
      PodStatus.terminated(pod.obj, code, code === 0 ? 'Completed' : 'Error', code === 0 ? 'Succeeded' : 'Failed');
    }
    await this.finishJob(job, pod.obj.status.phase === 'Succeeded', pod);
  }

  private async failImagePull(pod: SimPod, image: string, message?: string): Promise<void> {
    const pullError = message ?? `failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`;
    for (let round = 0; !pod.stop; round++) {
      if (round % 2 === 0) PodStatus.waiting(pod.obj, 'ErrImagePull', `rpc error: code = NotFound desc = ${pullError}`);
      else PodStatus.waiting(pod.obj, 'ImagePullBackOff', `Back-off pulling image "${image}"`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  /**
   * Job-level activeDeadlineSeconds: counts Pending time too, fails the Job, and deletes its pods
   * as the real Job controller does, so a pod's log cannot be read after its deadline.
   */
  private exceedDeadline(job: SimJob): void {
    if (job.obj.status.completionTime || isFailed(job.obj)) return;
    for (const pod of this.podsOf(job)) {
      this.stopPod(pod, 'deadline');
      this.deletePod(pod);
    }
    this.failJob(job, 'DeadlineExceeded', 'Job was active longer than specified deadline');
  }

  private async finishJob(job: SimJob, succeeded: boolean, pod?: SimPod): Promise<void> {
    const status = job.obj.status;
    if (status.completionTime || isFailed(job.obj) || !this.jobs.has(key(job.obj.metadata.namespace, job.obj.metadata.name))) return;
    // The Job controller omits a zero `active` and drops the tracking finalizer of a pod it counted.
    delete status.active;
    status.ready = 0;
    for (const pod of this.podsOf(job)) delete pod.obj.metadata.finalizers;
    if (!succeeded) {
      const matched = podFailurePolicyMatch(job.obj, pod);
      if (matched) return this.failJob(job, 'PodFailurePolicy', matched);
      return this.failJob(job, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    status.succeeded = 1;
    // Since 1.31 SuccessCriteriaMet comes first, Complete once the pods are gone.
    status.conditions = [condition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods')];
    await tick();
    status.conditions.push(condition('Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'));
    status.completionTime = now();
    this.startTtl(job);
  }

  private failJob(job: SimJob, reason: string, message: string): void {
    const status = job.obj.status;
    delete status.active;
    Object.assign(status, { ready: 0, failed: 1 });
    status.conditions = [condition('FailureTarget', 'True', reason, message), condition('Failed', 'True', reason, message)];
    this.startTtl(job);
  }

  private startTtl(job: SimJob): void {
    const ttl = job.obj.spec.ttlSecondsAfterFinished;
    if (ttl === undefined || this.closed) return;
    const { namespace, name } = job.obj.metadata;
    const expire = () => this.jobs.get(key(namespace, name)) === job && this.deleteJob(namespace, name, 'Background');
    if (this.options.ttlScale === 0) expire();
    else job.timers.push(later(expire, ttl * 1000 * this.options.ttlScale));
  }

  /** The kubelet evicts a pod now (node pressure). */
  evictPod(namespace: string, name: string, message?: string): void {
    const pod = this.pod(namespace, name);
    pod.evictMessage = message;
    this.stopPod(pod, 'evict');
  }

  /**
   * A client deletes a pod of a running Job. The Job controller counts a pod deleted before it
   * finished as failed (podReplacementPolicy TerminatingOrFailed), so with backoffLimit 0 the Job
   * fails; the pod is gone once the controller has dropped its tracking finalizer.
   */
  deletePodOfJob(namespace: string, name: string): void {
    const pod = this.pod(namespace, name);
    const job = [...this.jobs.values()].find((j) => this.podsOf(j).includes(pod));
    const finished = pod.obj.status.phase === 'Succeeded' || pod.obj.status.phase === 'Failed';
    this.deletePod(pod);
    if (job && !finished) void this.finishJob(job, false);
  }

  /**
   * The Eviction API (a node drain): the apiserver marks the pod DisruptionTarget
   * (EvictionByEvictionAPI) and deletes it; the kubelet stops it; the Job controller applies the
   * Job's pod failure policy; the pod is gone once its tracking finalizer is dropped.
   */
  evictPodViaApi(namespace: string, name: string): void {
    const pod = this.pod(namespace, name);
    const job = [...this.jobs.values()].find((j) => this.podsOf(j).includes(pod));
    setCondition(pod.obj.status.conditions, condition('DisruptionTarget', 'True', 'EvictionByEvictionAPI', 'Eviction API: evicting'));
    if (pod.obj.status.phase === 'Running') PodStatus.terminated(pod.obj, 143, 'Error', 'Failed');
    this.deletePod(pod);
    if (job) void this.finishJob(job, false, pod);
  }

  stopPod(pod: SimPod, why: StopReason): void {
    pod.stop ??= why;
    pod.abort.abort();
  }

  deletePod(pod: SimPod): void {
    this.stopPod(pod, 'deleted');
    this.pods.delete(key(pod.obj.metadata.namespace, pod.obj.metadata.name));
    void rm(pod.logFile, { force: true });
  }
}

/** The message of the Job controller when a failed pod matches a FailJob rule on its conditions. */
function podFailurePolicyMatch(job: Obj, pod: SimPod | undefined): string | undefined {
  if (!pod) return undefined;
  const rules = (job.spec.podFailurePolicy?.rules ?? []) as Obj[];
  const conditions = (pod.obj.status.conditions ?? []) as Obj[];
  for (const [i, rule] of rules.entries()) {
    if (rule.action !== 'FailJob') continue;
    const hit = ((rule.onPodConditions ?? []) as Obj[]).find((want) =>
      conditions.some((c) => c.type === want.type && c.status === (want.status ?? 'True')),
    );
    if (hit) return `Pod ${pod.obj.metadata.namespace}/${pod.obj.metadata.name} has condition ${hit.type} matching FailJob rule at index ${i}`;
  }
  return undefined;
}

function isFailed(job: Obj): boolean {
  return (job.status.conditions ?? []).some((c: Obj) => c.type === 'Failed' && c.status === 'True');
}
