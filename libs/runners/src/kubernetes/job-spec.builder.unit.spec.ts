import type { ContainerRunRequest } from '../port/container-runner.port.js';
import { buildJob, type JobSpecInput } from './job-spec.builder.js';

function input(overrides: Partial<ContainerRunRequest> = {}, memoryBytes = 1.5 * 1024 ** 3): JobSpecInput {
  const request: ContainerRunRequest = {
    role: 'ingester',
    runId: 'run-1',
    batchIndex: 4,
    attempt: 2,
    image: 'ghcr.io/example/ingester@sha256:abc',
    command: ['node', 'local-only.mjs'],
    limits: { timeout_seconds: 900, memory: '1.5g', cpu: '0.25' },
    env: { OSA_LIMIT: '100', OSA_RUN_ID: 'run-1' },
    dirs: { in: 'runs/r/b4/in', out: 'runs/r/b4/out', files: 'runs/r/b4/files' },
    ...overrides,
  };
  return {
    request,
    memoryBytes,
    dirs: request.dirs,
    spec: 'abc',
    config: { dataPvc: 'osa-data', imagePullSecrets: ['regcred'], serviceAccount: 'osa-job', ttlSecondsAfterFinished: 3600 },
  };
}

describe('buildJob', () => {
  it('leaves retries to the queue and bounds the Job in time', () => {
    const { spec } = buildJob(input());
    expect(spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 3600 });
    expect(spec!.template.spec!.restartPolicy).toBe('Never');
  });

  it('fails the Job on a disrupted pod, so a drained pod is told apart from a deleted one', () => {
    const { spec } = buildJob(input());
    expect(spec!.podFailurePolicy).toEqual({ rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] });
  });

  it('runs non-root with no capabilities, no privilege escalation, RuntimeDefault seccomp and no token', () => {
    const pod = buildJob(input()).spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(pod.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: false,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.serviceAccountName).toBe('osa-job');
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
  });

  it('sets memory and cpu limits and requests as Kubernetes quantities', () => {
    const container = buildJob(input()).spec!.template.spec!.containers[0]!;
    expect(container.resources).toEqual({ limits: { memory: '1536Mi', cpu: '0.25' }, requests: { memory: '1536Mi', cpu: '0.25' } });
  });

  it('uses the memory override of an OOM re-run', () => {
    const container = buildJob(input({}, 3 * 1024 ** 3)).spec!.template.spec!.containers[0]!;
    expect(container.resources!.limits!.memory).toBe('3Gi');
  });

  it('runs the image entrypoint with the contract env', () => {
    const container = buildJob(input()).spec!.template.spec!.containers[0]!;
    expect(container.command).toBeUndefined();
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'OSA_IN', value: '/osa/in' },
        { name: 'OSA_OUT', value: '/osa/out' },
        { name: 'OSA_FILES', value: '/osa/files' },
        { name: 'OSA_LIMIT', value: '100' },
      ]),
    );
  });

  it('mounts the data PVC by sub-path: in read-only, out and files writable for ingesters', () => {
    const pod = buildJob(input()).spec!.template.spec!;
    expect(pod.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'osa-data' } }]);
    expect(pod.containers[0]!.volumeMounts).toEqual([
      { name: 'data', mountPath: '/osa/in', subPath: 'runs/r/b4/in', readOnly: true },
      { name: 'data', mountPath: '/osa/out', subPath: 'runs/r/b4/out', readOnly: false },
      { name: 'data', mountPath: '/osa/files', subPath: 'runs/r/b4/files', readOnly: false },
    ]);
  });

  describe('for hooks', () => {
    const hook = () => buildJob(input({ role: 'hook', hook: 'check_schema' }));

    it('mounts files read-only and gives a read-only root filesystem with an emptyDir /tmp', () => {
      const pod = hook().spec!.template.spec!;
      const mounts = pod.containers[0]!.volumeMounts!;
      expect(mounts.find((m) => m.mountPath === '/osa/files')!.readOnly).toBe(true);
      expect(mounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
      expect(pod.containers[0]!.securityContext!.readOnlyRootFilesystem).toBe(true);
    });

    it('cuts the network: dnsPolicy None with a loopback nameserver and the label the NetworkPolicy selects', () => {
      const job = hook();
      expect(job.spec!.template.spec).toMatchObject({ dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] } });
      expect(job.spec!.template.metadata!.labels).toMatchObject({ 'osa.io/network': 'none', 'osa.io/hook': 'check_schema' });
    });
  });

  it('records the sub-paths in an annotation, so a later attempt can adopt the output', () => {
    expect(JSON.parse(buildJob(input()).metadata!.annotations!['osa.io/dirs']!)).toEqual(input().dirs);
  });
});
