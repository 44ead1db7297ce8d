import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { type ContainerDirs, ErrorKind, imageAllowed, imageNotAllowedMessage, parseMemory, PermanentError, TransientError } from '#osa/domain';
import { describeContainer } from '../port/classify-exit.js';
import type { CapacityReport, ContainerRunner, ContainerRunRequest, ContainerRunResult } from '../port/container-runner.port.js';
import { JobApiGateway } from './job-api.gateway.js';
import { failedJobError, oomError } from './job-failure.classifier.js';
import { DIRS_ANNOTATION, Label, sameWorkSelector, specHash } from './job-naming.js';
import { buildJob } from './job-spec.builder.js';
import { jobOutcome, unschedulableCondition } from './job-status.js';
import { PodStartError, type SettledJob, waitForJob } from './job-waiter.js';
import type { KubernetesApis } from './kube-client.factory.js';
import type { KubernetesRunnerConfig } from './kubernetes-runner.config.js';
import { adoptOutput, toSubPath } from './output-adoption.js';

/**
 * Where the runner reports problems it deliberately does not throw (cleanup, capacity checks):
 * the service's log, so they come out as its JSON lines.
 */
export interface RunnerLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Result of {@link KubernetesJobRunner.run}: the port's result plus which Job produced it. */
export interface KubernetesRunResult extends ContainerRunResult {
  jobName: string;
  /** The attempt that started the Job; differs from the request's after re-attaching. */
  jobAttempt: number;
}

interface Request extends ContainerRunRequest {
  subDirs: ContainerDirs;
  memoryBytes: number;
  spec: string;
}

/**
 * Runs ingester and hook containers as Kubernetes Jobs (docs/architecture.md, "Runners").
 *
 * Re-attachment: Jobs are found by labels naming the work — role, run, batch, hook and a hash
 * of the container spec — but not the attempt. A worker that restarts (a new BullMQ attempt)
 * therefore finds the Job its predecessor started: a running Job is attached to and waited for,
 * a succeeded one is reused without running again. Either way, when the Job belongs to an
 * earlier attempt, its output directories (recorded in the `osa.io/dirs` annotation) are renamed
 * into this attempt's directories once it has succeeded, so callers always read `request.dirs`
 * and only ever see complete output, never a half-written directory. Failed Jobs are never
 * reused. A 409 on create (a
 * concurrent worker won the race for the same name) attaches to the existing Job, tracked by uid.
 *
 * Aborting `request.signal` stops the wait and leaves the Job running for the next attempt.
 * Every other ending captures the pod's last log lines, then deletes the Job with Background
 * propagation so its pods go too.
 */
export class KubernetesJobRunner implements ContainerRunner {
  private readonly gateway: JobApiGateway;

  constructor(
    private readonly config: KubernetesRunnerConfig,
    apis: KubernetesApis,
    private readonly logger: RunnerLogger,
  ) {
    this.gateway = new JobApiGateway(apis, config.namespace);
  }

  async capacity(): Promise<CapacityReport> {
    let pods;
    try {
      pods = await this.gateway.listPendingPods();
    } catch (err) {
      // Not knowing is not pressure: the next pull's own Job reports real problems.
      this.logger.warn('Kubernetes capacity check failed; assuming capacity is available', { error: String(err) });
      return { available: true };
    }
    for (const pod of pods) {
      const condition = unschedulableCondition(pod);
      if (condition) return { available: false, signal: 'unschedulable', message: condition.message ?? `pod ${pod.metadata?.name} is Unschedulable` };
    }
    return { available: true };
  }

  async run(request: ContainerRunRequest): Promise<KubernetesRunResult> {
    const started = Date.now();
    const req = this.prepare(request);
    const existing = await this.findReusable(req);
    let job = existing;
    if (!job) {
      if (req.signal?.aborted) throw new TransientError(`${describeContainer(req)} was cancelled before its Job started`, ErrorKind.Unexpected);
      job = await this.create(req);
    }
    const name = job.metadata!.name!;
    let settled: SettledJob;
    try {
      settled = await waitForJob(this.gateway, req, name, job.metadata?.uid, this.config);
    } catch (err) {
      if (!(err instanceof PodStartError)) throw err;
      await this.cleanUp(name);
      throw err.error;
    }
    const finalTail = settled.pod?.metadata?.name ? await this.gateway.readLogTail(settled.pod.metadata.name, this.config.logTailLines) : [];
    // A pod killed at its deadline may be gone already; then the tail read while it ran is the best there is.
    const logTail = finalTail.length ? finalTail : settled.sampledLogTail;
    const finished = { request: req, job: settled.job, pod: settled.pod, memoryBytes: req.memoryBytes, logTail };
    const failure = settled.outcome === 'failed' ? failedJobError(finished) : (oomError(finished) ?? (await this.adopt(req, settled.job)));
    await this.cleanUp(name);
    if (failure) throw failure;
    return {
      exitCode: 0,
      logTail,
      durationMs: Date.now() - started,
      reused: existing !== undefined && jobOutcome(existing) === 'succeeded',
      jobName: name,
      jobAttempt: Number(settled.job.metadata?.labels?.[Label.attempt] ?? req.attempt),
    };
  }

  private prepare(request: ContainerRunRequest): Request {
    const who = describeContainer(request);
    if (!request.image) throw new PermanentError(`${who} has no image, which the Kubernetes runner needs`, ErrorKind.InvalidConvention);
    // The API checks conventions and overrides; this also stops conventions stored before the list was set.
    const allowed = this.config.allowedImagePrefixes ?? [];
    if (!imageAllowed(request.image, allowed))
      throw new PermanentError(`${who}: ${imageNotAllowedMessage(request.image, allowed)}`, ErrorKind.InvalidConvention);
    const subDirs = {} as ContainerDirs;
    for (const key of ['in', 'out', 'files'] as const) {
      const sub = toSubPath(this.config.dataMountPath, request.dirs[key]);
      if (!sub) throw new PermanentError(`${who} dir "${request.dirs[key]}" is not inside the data volume`, ErrorKind.InvalidConvention);
      subDirs[key] = sub;
    }
    const memoryBytes = request.memoryBytes ?? parseMemory(request.limits.memory);
    if (!memoryBytes) throw new PermanentError(`${who} memory limit "${request.limits.memory}" is invalid`, ErrorKind.InvalidConvention);
    return { ...request, subDirs, memoryBytes, spec: specHash(request, memoryBytes) };
  }

  /**
   * The Job to attach to or reuse instead of creating one: this attempt's own Job unless it
   * failed, else a succeeded Job of an earlier attempt whose output is still there, else a
   * running one. A succeeded Job whose output another attempt already adopted is deleted.
   */
  private async findReusable(req: Request): Promise<V1Job | undefined> {
    const jobs = (await this.gateway.findJobs(sameWorkSelector(req, req.spec))).filter((j) => jobOutcome(j) !== 'failed');
    const attemptOf = (j: V1Job) => Number(j.metadata?.labels?.[Label.attempt] ?? -1);
    const own = jobs.find((j) => attemptOf(j) === req.attempt);
    if (own) return own;
    const byAttempt = jobs.sort((a, b) => attemptOf(b) - attemptOf(a));
    for (const job of byAttempt.filter((j) => jobOutcome(j) === 'succeeded')) {
      if (await this.outputAvailable(req, job)) return job;
      await this.cleanUp(job.metadata!.name!);
    }
    return byAttempt.find((j) => jobOutcome(j) === undefined);
  }

  private async create(req: Request): Promise<V1Job> {
    // Missing sub-paths would be created by the kubelet as root, unwritable for uid 1000.
    const { in: input, out, files } = req.subDirs;
    await Promise.all([input, out, files].map((d) => mkdir(path.join(this.config.dataMountPath, d), { recursive: true })));
    const body = buildJob({ request: req, memoryBytes: req.memoryBytes, dirs: req.subDirs, spec: req.spec, config: this.config });
    const created = await this.gateway.createJob(body);
    if (created) return created;
    // 409: a concurrent worker created this very Job; attach to it, tracked by its uid.
    return this.gateway.readJob(body.metadata!.name!);
  }

  private jobDirs(job: V1Job): ContainerDirs | undefined {
    const raw = job.metadata?.annotations?.[DIRS_ANNOTATION];
    return raw ? (JSON.parse(raw) as ContainerDirs) : undefined;
  }

  private async outputAvailable(req: Request, job: V1Job): Promise<boolean> {
    const from = this.jobDirs(job);
    if (!from) return false;
    return (await adoptOutput(this.config.dataMountPath, req.role, from, req.subDirs, { dryRun: true })) === true;
  }

  /** Moves an earlier attempt's output into this attempt's dirs; an Error when it is gone. */
  private async adopt(req: Request, job: V1Job): Promise<Error | undefined> {
    const from = this.jobDirs(job);
    if (!from) return undefined;
    if (await adoptOutput(this.config.dataMountPath, req.role, from, req.subDirs)) return undefined;
    return new TransientError(
      `the output of Job ${job.metadata?.name} was taken by another attempt before this one could read it`,
      ErrorKind.Vanished,
      [],
      { runId: req.runId, batchIndex: req.batchIndex, hook: req.hook },
    );
  }

  private async cleanUp(name: string): Promise<void> {
    try {
      await this.gateway.deleteJob(name);
    } catch (err) {
      // The outcome is known; ttlSecondsAfterFinished removes the Job if this delete failed.
      this.logger.warn(`could not delete Job ${name}; its TTL will remove it`, { error: String(err) });
    }
  }
}
