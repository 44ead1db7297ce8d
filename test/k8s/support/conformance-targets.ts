import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { LocalProcessRunner } from '#osa/runners';
import {
  createKubernetesApis,
  type KubernetesApis,
  KubernetesJobRunner,
  type KubernetesRunnerConfig,
  kubeConfigForServer,
  Label,
  labelValue,
} from '#osa/runners-kubernetes';
import { K8sApiSimulator, type Obj, waitFor } from '#osa/testing';
import { ConformanceImages, type ConformanceTarget } from '../runner-conformance.cases.js';
import { DATA_PVC, JOB_SERVICE_ACCOUNT, NAMESPACE, REPO_ROOT, type TestCluster } from './test-cluster.js';

export interface OwnedTarget {
  target: ConformanceTarget;
  close(): Promise<void>;
}

const runSelector = (runId: string) => `${Label.run}=${labelValue(runId)}`;
const hasRun = (o: Obj, runId: string) => o.metadata?.labels?.[Label.run] === labelValue(runId);

function runnerConfig(dataRoot: string): KubernetesRunnerConfig {
  return {
    namespace: NAMESPACE,
    dataPvc: DATA_PVC,
    dataMountPath: dataRoot,
    imagePullSecrets: [],
    serviceAccount: JOB_SERVICE_ACCOUNT,
    ttlSecondsAfterFinished: 3600,
    schedulingTimeoutSeconds: 600,
    pollIntervalMs: 100,
    logTailLines: 50,
  };
}

/** A Kubernetes runner as the services build it; `failDeletes` makes its Job cleanup fail, like a worker that died between success and cleanup. */
export function kubernetesRunner(
  kubeConfig: KubeConfig,
  dataRoot: string,
  { failDeletes = false, config = {} }: { failDeletes?: boolean; config?: Partial<KubernetesRunnerConfig> } = {},
): KubernetesJobRunner {
  const apis: KubernetesApis = createKubernetesApis(kubeConfig);
  if (failDeletes) {
    apis.batch.deleteNamespacedJob = (() => Promise.reject(new Error('injected: the worker died before cleaning up')));
  }
  return new KubernetesJobRunner({ ...runnerConfig(dataRoot), ...config }, apis, { warn: () => undefined });
}

export async function localTarget(): Promise<OwnedTarget> {
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'osa-conformance-local-'));
  const make = () => new LocalProcessRunner({ dataDir: dataRoot, cwd: REPO_ROOT, slots: 4, sampleIntervalMs: 20 });
  return {
    target: { name: 'local runner', dataRoot, runner: make(), newRunner: make },
    close: () => rm(dataRoot, { recursive: true, force: true }),
  };
}

export async function simulatorTarget(): Promise<OwnedTarget> {
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'osa-conformance-sim-'));
  const images = Object.fromEntries(Object.values(ConformanceImages).map(([image, argv]) => [image, argv]));
  const sim = await K8sApiSimulator.start({ dataRoot, images, cwd: REPO_ROOT, memorySampleIntervalMs: 20, namespaces: [NAMESPACE], pvcName: DATA_PVC });
  const kubeConfig = kubeConfigForServer(sim.url);
  const podOf = (runId: string) => waitFor(`the pod of run ${runId} to run`, () => sim.pods(NAMESPACE).find((p) => hasRun(p, runId) && p.status?.phase === 'Running'));
  return {
    target: {
      name: 'API simulator',
      dataRoot,
      runner: kubernetesRunner(kubeConfig, dataRoot),
      newRunner: (o) => kubernetesRunner(kubeConfig, dataRoot, { failDeletes: o?.failDeletes }),
      kubernetes: {
        holdImagePull: (image) => sim.injectPodFault({ type: 'image-pull' }, { image }),
        evictPodOf: async (request) => sim.evictPod((await podOf(request.runId)).metadata!.name!, NAMESPACE),
        drainPodOf: async (request) => sim.drainPod((await podOf(request.runId)).metadata!.name!, NAMESPACE),
        deleteJobOf: async (request) => sim.vanishJob((await podOf(request.runId)).metadata!.labels![Label.jobName]!, NAMESPACE),
        deletePodOf: async (request) => sim.deletePod((await podOf(request.runId)).metadata!.name!, NAMESPACE),
        waitRunning: async (request) => void (await podOf(request.runId)),
        jobCount: (runId) => Promise.resolve(sim.jobs(NAMESPACE).filter((j) => hasRun(j, runId)).length),
      },
    },
    close: async () => {
      await sim.close();
      await rm(dataRoot, { recursive: true, force: true });
    },
  };
}

/** The runner on the real control plane, authenticated as the ServiceAccount of k8s/ (RBAC enforced). */
export async function controlPlaneTarget(cluster: TestCluster): Promise<OwnedTarget> {
  const { kubeConfig } = await cluster.runnerKubeConfig();
  const dataRoot = cluster.dataRoot;
  for (const [image, argv] of Object.values(ConformanceImages)) cluster.agent.mapImage(image, argv);
  const podOf = (runId: string) =>
    waitFor(`the pod of run ${runId} to run`, async () => (await cluster.pods(NAMESPACE, runSelector(runId))).find((p) => p.status?.phase === 'Running'), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
  return {
    target: {
      name: 'real control plane',
      dataRoot,
      runner: kubernetesRunner(kubeConfig, dataRoot),
      newRunner: (o) => kubernetesRunner(kubeConfig, dataRoot, { failDeletes: o?.failDeletes }),
      kubernetes: {
        holdImagePull: (image) => cluster.agent.holdImagePull(image),
        evictPodOf: async (request) => cluster.agent.evict(NAMESPACE, (await podOf(request.runId)).metadata!.name!),
        drainPodOf: async (request) => {
          const name = (await podOf(request.runId)).metadata!.name!;
          await cluster.core.createNamespacedPodEviction({ name, namespace: NAMESPACE, body: { metadata: { name, namespace: NAMESPACE } } });
        },
        deleteJobOf: async (request) => {
          const pod = await podOf(request.runId);
          await cluster.batch.deleteNamespacedJob({ name: pod.metadata!.labels![Label.jobName]!, namespace: NAMESPACE, propagationPolicy: 'Background' });
        },
        deletePodOf: async (request) => {
          const pod = await podOf(request.runId);
          await cluster.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: NAMESPACE });
        },
        waitRunning: async (request) => void (await podOf(request.runId)),
        jobCount: async (runId) => (await cluster.jobs(NAMESPACE, runSelector(runId))).filter((j) => !j.metadata?.deletionTimestamp).length,
      },
    },
    close: () => Promise.resolve(),
  };
}
