import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorKind, OOMError, PermanentError, TransientError } from '#osa/domain';
import type { ContainerRunner, ContainerRunRequest } from '#osa/runners';
import { waitFor } from '#osa/testing';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../support/k8s-simulator/fixtures');

/** Images of the conformance cases and the argv each stands for (the local runner runs the argv). */
export const ConformanceImages = {
  ok: ['registry.example/osa/ok:1', ['node', path.join(FIXTURES, 'write-output.mjs')]],
  exit3: ['registry.example/osa/exit3:1', ['node', path.join(FIXTURES, 'exit-with.mjs'), '3']],
  hog: ['registry.example/osa/hog:1', ['node', path.join(FIXTURES, 'allocate.mjs'), '400']],
  hang: ['registry.example/osa/hang:1', ['node', path.join(FIXTURES, 'hang.mjs')]],
  gated: ['registry.example/osa/gated:1', ['node', path.join(FIXTURES, 'wait-for-file.mjs')]],
} as const satisfies Record<string, readonly [string, readonly string[]]>;

/** An image no registry has: the Kubernetes targets keep its pod in ErrImagePull / ImagePullBackOff. */
export const MISSING_IMAGE = 'registry.example/osa/missing:9';

/** The Job and pod operations only Kubernetes targets have, whatever serves the API. */
export interface KubernetesControls {
  /** Pods of this image cannot get it. */
  holdImagePull(image: string): void;
  /** The kubelet evicts the request's running pod (node pressure). */
  evictPodOf(request: ContainerRunRequest): Promise<void>;
  /** The request's running pod is evicted through the Eviction API (a node drain). */
  drainPodOf(request: ContainerRunRequest): Promise<void>;
  /** Someone deletes the request's Job (Background) while it runs. */
  deleteJobOf(request: ContainerRunRequest): Promise<void>;
  /** Someone deletes the request's pod while it runs. */
  deletePodOf(request: ContainerRunRequest): Promise<void>;
  /** Waits until the request's pod runs. */
  waitRunning(request: ContainerRunRequest): Promise<void>;
  /** The Jobs that exist for this run id. */
  jobCount(runId: string): Promise<number>;
}

/** One runner implementation under test, with the data directory its containers see. */
export interface ConformanceTarget {
  name: string;
  dataRoot: string;
  runner: ContainerRunner;
  /** A fresh runner, as after a worker restart; `failDeletes` makes its Job cleanup fail. */
  newRunner(options?: { failDeletes?: boolean }): ContainerRunner;
  kubernetes?: KubernetesControls;
}

let counter = 0;

/** A request whose dirs are unique, image and command naming the same program. */
export function conformanceRequest(image: keyof typeof ConformanceImages | typeof MISSING_IMAGE, overrides: Partial<ContainerRunRequest> = {}): ContainerRunRequest {
  const attempt = overrides.attempt ?? 1;
  const role = overrides.role ?? 'ingester';
  const runId = overrides.runId ?? `6c1d2e3f-0a4b-4c5d-8e6f-${String(++counter).padStart(12, '0')}`;
  const root = `runs/${runId}/b0/${role}/a${attempt}`;
  const [imageName, argv] = image === MISSING_IMAGE ? [MISSING_IMAGE, ['true']] : ConformanceImages[image];
  return {
    role,
    runId,
    batchIndex: 0,
    hook: role === 'hook' ? 'check_schema' : undefined,
    attempt,
    image: imageName,
    command: argv,
    limits: { timeout_seconds: 60, memory: '256m', cpu: '0.5' },
    env: { OSA_RUN_ID: runId, OSA_BATCH_INDEX: '0' },
    dirs: { in: `${root}/in`, out: `${root}/out`, files: `${root}/files` },
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the run to fail');
}

async function prepareDirs(target: ConformanceTarget, request: ContainerRunRequest): Promise<string> {
  const input = path.join(target.dataRoot, request.dirs.in);
  await mkdir(input, { recursive: true });
  return input;
}

/**
 * The runner contract every implementation must keep, as one table of cases: the same behaviour
 * gives the same outcome and the same ErrorKind on the local runner, the API simulator and the
 * real control plane. Cases about Jobs and pods run on Kubernetes targets only.
 */
export function describeRunnerConformance(kind: 'local' | 'kubernetes', getTarget: () => ConformanceTarget): void {
  const t = () => getTarget();
  const k8s = () => {
    const controls = t().kubernetes;
    if (!controls) throw new Error(`${t().name} has no Kubernetes controls`);
    return controls;
  };
  // Only Kubernetes targets have Jobs, pods and images; on the local runner these do not apply.
  const itK8s = kind === 'kubernetes' ? it : it.skip;

  it('succeeds and leaves the output in the request dirs', async () => {
    const request = conformanceRequest('ok');
    await prepareDirs(t(), request);
    const result = await t().runner.run(request);
    expect(result).toMatchObject({ exitCode: 0, reused: false });
    const records = await readFile(path.join(t().dataRoot, request.dirs.out, 'records.jsonl'), 'utf8');
    expect(JSON.parse(records)).toMatchObject({ source_id: 'r1' });
  });

  it('a non-zero ingester exit is transient ingester_exit, with the log captured before cleanup', async () => {
    const request = conformanceRequest('exit3');
    await prepareDirs(t(), request);
    const err = await failure(t().runner.run(request));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.IngesterExit });
    expect((err as TransientError).logTail).toContain('failing with exit code 3');
  });

  it('an exit code the convention lists as permanent is permanent ingester_exit', async () => {
    const request = conformanceRequest('exit3', { permanentExitCodes: [3] });
    await prepareDirs(t(), request);
    const err = await failure(t().runner.run(request));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: ErrorKind.IngesterExit });
  });

  it('a non-zero hook exit is permanent hook_exit', async () => {
    const request = conformanceRequest('exit3', { role: 'hook' });
    await prepareDirs(t(), request);
    const err = await failure(t().runner.run(request));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: ErrorKind.HookExit });
  });

  it('exceeding the memory limit is an OOMError (oom) with the limit', async () => {
    const request = conformanceRequest('hog', { limits: { timeout_seconds: 60, memory: '128m', cpu: '1' } });
    await prepareDirs(t(), request);
    const err = await failure(t().runner.run(request));
    expect(err).toBeInstanceOf(OOMError);
    expect(err).toMatchObject({ kind: ErrorKind.Oom, memoryLimitBytes: 128 * 1024 ** 2 });
  });

  it('running past timeout_seconds is transient timeout, with the log so far', async () => {
    const request = conformanceRequest('hang', { limits: { timeout_seconds: 2, memory: '256m', cpu: '0.5' } });
    await prepareDirs(t(), request);
    const err = await failure(t().runner.run(request));
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.Timeout });
    expect((err as TransientError).logTail).toContain('started');
  });

  itK8s('an image that cannot be pulled is permanent image_pull naming the image', async () => {
    k8s().holdImagePull(MISSING_IMAGE);
    const request = conformanceRequest(MISSING_IMAGE);
    await prepareDirs(t(), request);
    const err = await failure(t().runner.run(request));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: ErrorKind.ImagePull });
    expect(err.message).toContain(MISSING_IMAGE);
    await waitFor('the Job to be deleted', async () => (await k8s().jobCount(request.runId)) === 0, { timeoutMs: 30_000 });
  });

  itK8s('a pod evicted by the kubelet is transient evicted', async () => {
    const request = conformanceRequest('hang');
    await prepareDirs(t(), request);
    const run = t().runner.run(request);
    await k8s().evictPodOf(request);
    const err = await failure(run);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.Evicted });
    expect(err.message).toContain('The node was low on resource: memory');
  });

  itK8s('a pod evicted through the Eviction API (a node drain) is transient evicted', async () => {
    const request = conformanceRequest('hang');
    await prepareDirs(t(), request);
    const run = t().runner.run(request);
    await k8s().drainPodOf(request);
    const err = await failure(run);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.Evicted });
    expect(err.message).toContain('DisruptionTarget');
  });

  itK8s('a Job deleted while it runs is transient vanished', async () => {
    const request = conformanceRequest('hang');
    await prepareDirs(t(), request);
    const run = t().runner.run(request);
    await k8s().deleteJobOf(request);
    const err = await failure(run);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.Vanished });
  });

  itK8s('a pod deleted while it runs is transient vanished', async () => {
    const request = conformanceRequest('hang');
    await prepareDirs(t(), request);
    const run = t().runner.run(request);
    await k8s().deletePodOf(request);
    const err = await failure(run);
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.Vanished });
  });

  itK8s('a restarted worker re-attaches to the running Job instead of starting a second one', async () => {
    const killed = new AbortController();
    const first = conformanceRequest('gated', { attempt: 1, signal: killed.signal });
    const firstIn = await prepareDirs(t(), first);
    const firstRun = t().runner.run(first);
    await k8s().waitRunning(first);
    killed.abort(new Error('worker killed'));
    await expect(firstRun).rejects.toBeInstanceOf(TransientError);

    // The queue starts the stalled job again: a new attempt, its own dirs, a new runner.
    const second = conformanceRequest('gated', { attempt: 2, runId: first.runId });
    const secondRun = t().newRunner().run(second);
    expect(await k8s().jobCount(first.runId)).toBe(1);
    await writeFile(path.join(firstIn, 'go'), '');
    const result = await secondRun;
    expect(result).toMatchObject({ exitCode: 0, reused: false, jobAttempt: 1 });
    const records = await readFile(path.join(t().dataRoot, second.dirs.out, 'records.jsonl'), 'utf8');
    expect(JSON.parse(records)).toMatchObject({ source_id: 'late' });
  });

  itK8s('a Job that already succeeded is adopted with its output, not run again', async () => {
    // A worker whose Job succeeded but whose cleanup failed before it committed the output.
    const first = conformanceRequest('ok', { attempt: 1 });
    await prepareDirs(t(), first);
    await t().newRunner({ failDeletes: true }).run(first);
    expect(await k8s().jobCount(first.runId)).toBe(1);

    const second = conformanceRequest('ok', { attempt: 2, runId: first.runId });
    const result = await t().newRunner().run(second);
    expect(result).toMatchObject({ exitCode: 0, reused: true, jobAttempt: 1 });
    expect(await readFile(path.join(t().dataRoot, second.dirs.out, 'records.jsonl'), 'utf8')).toContain('"r1"');
    await waitFor('the adopted Job to be deleted', async () => (await k8s().jobCount(first.runId)) === 0, { timeoutMs: 30_000 });
  });
}
