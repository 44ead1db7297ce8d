import type { V1Container, V1Job, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ContainerDirs } from '#osa/domain';
import type { ContainerRunRequest } from '../port/container-runner.port.js';
import { DIRS_ANNOTATION, jobLabels, jobName } from './job-naming.js';
import type { KubernetesRunnerConfig } from './kubernetes-runner.config.js';
import { memoryQuantity } from './memory-quantity.js';

/** Where the contract directories appear inside every container (the container contract, README). */
export const CONTAINER_PATHS = { in: '/osa/in', out: '/osa/out', files: '/osa/files' } as const;

const DATA_VOLUME = 'data';
const TMP_VOLUME = 'tmp';
const USER_ID = 1000;

export interface JobSpecInput {
  request: ContainerRunRequest;
  /** Effective memory limit in bytes: the request's override, else limits.memory. */
  memoryBytes: number;
  /** Directories as sub-paths of the data PVC. */
  dirs: ContainerDirs;
  spec: string;
  config: Pick<KubernetesRunnerConfig, 'dataPvc' | 'imagePullSecrets' | 'serviceAccount' | 'ttlSecondsAfterFinished'>;
}

/**
 * Builds the batch/v1 Job for one container run. Pure: the same input gives the same Job.
 *
 * Choices worth knowing: the container runs the image's own entrypoint (the convention's
 * `command` is for the local runner and names repo paths); `backoffLimit: 0` because retries
 * belong to the queue, each with a fresh output directory. No `podFailurePolicy: Ignore` on
 * DisruptionTarget: the Job would start a replacement pod writing into the same, possibly
 * half-written output directory, and a step must trust only output its own attempt committed;
 * an eviction fails the Job and
 * the queue retries with a new attempt instead. It does say `FailJob` on DisruptionTarget: an
 * eviction through the Eviction API (a node drain) deletes the pod, which is usually gone by
 * the time the runner looks, and only the Job's condition (reason PodFailurePolicy) still says
 * the pod was disrupted rather than deleted by someone.
 */
export function buildJob({ request, memoryBytes, dirs, spec, config }: JobSpecInput): V1Job {
  const hook = request.role === 'hook';
  const labels = jobLabels(request, spec);
  const memory = memoryQuantity(memoryBytes);
  const resources = { memory, cpu: request.limits.cpu };

  const mounts: V1VolumeMount[] = [
    { name: DATA_VOLUME, mountPath: CONTAINER_PATHS.in, subPath: dirs.in, readOnly: true },
    { name: DATA_VOLUME, mountPath: CONTAINER_PATHS.out, subPath: dirs.out, readOnly: false },
    { name: DATA_VOLUME, mountPath: CONTAINER_PATHS.files, subPath: dirs.files, readOnly: hook },
  ];
  const volumes: V1Volume[] = [{ name: DATA_VOLUME, persistentVolumeClaim: { claimName: config.dataPvc } }];
  if (hook) {
    // A read-only root filesystem still needs somewhere for runtimes to put temp files.
    mounts.push({ name: TMP_VOLUME, mountPath: '/tmp' });
    volumes.push({ name: TMP_VOLUME, emptyDir: { sizeLimit: '256Mi' } });
  }

  const container: V1Container = {
    name: hook ? 'hook' : 'ingester',
    image: request.image,
    env: [
      ...Object.entries(request.env).map(([name, value]) => ({ name, value })),
      { name: 'OSA_IN', value: CONTAINER_PATHS.in },
      { name: 'OSA_OUT', value: CONTAINER_PATHS.out },
      { name: 'OSA_FILES', value: CONTAINER_PATHS.files },
    ],
    // Guaranteed QoS (requests = limits): the last pods the kubelet evicts under pressure.
    resources: { limits: resources, requests: resources },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: hook,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: mounts,
  };

  const pod: V1PodSpec = {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    serviceAccountName: config.serviceAccount,
    imagePullSecrets: config.imagePullSecrets.length ? config.imagePullSecrets.map((name) => ({ name })) : undefined,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: USER_ID,
      runAsGroup: USER_ID,
      fsGroup: USER_ID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [container],
    volumes,
  };
  if (hook) {
    // dnsPolicy None requires at least one nameserver; loopback answers nothing, and the
    // NetworkPolicy selecting osa.io/network=none denies all egress anyway.
    pod.dnsPolicy = 'None';
    pod.dnsConfig = { nameservers: ['127.0.0.1'] };
  }

  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(request, spec),
      labels,
      annotations: { [DIRS_ANNOTATION]: JSON.stringify(dirs) },
    },
    spec: {
      backoffLimit: 0,
      podFailurePolicy: { rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
      activeDeadlineSeconds: request.limits.timeout_seconds,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      template: { metadata: { labels }, spec: pod },
    },
  };
}
