import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type KubernetesObject,
  PatchStrategy,
} from '@kubernetes/client-node';
import { waitFor } from '#osa/testing';
import { renderKustomization } from '../../deploy/kustomize.js';
import { ControlPlane } from './control-plane.cluster.js';
import { ensureK8sBinaries, type K8sBinaries } from './k8s-binaries.js';
import { NodeAgent } from './node-agent.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The namespace, claim and service accounts exactly as k8s/ names them. */
export const NAMESPACE = 'osa-ingest';
export const DATA_PVC = 'osa-ingest-data';
export const RUNNER_SERVICE_ACCOUNT = 'osa-ingest-runner';
export const JOB_SERVICE_ACCOUNT = 'osa-ingest-noapi';
export const NODE_NAME = 'osa-test-node';
/** What the one Node offers; a pod asking more memory stays Unschedulable. */
export const NODE_ALLOCATABLE = { cpu: '8', memory: '4Gi', pods: '110' };

const FIELD_MANAGER = 'osa-ingest-tests';

/**
 * The real control plane, one Node run by the node agent, and the objects of k8s/ applied as
 * they are (namespace, service accounts, Role, RoleBinding, data PVC bound to a PV standing in
 * for the shared volume). Started once per test file run.
 */
export class TestCluster {
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  readonly objects: KubernetesObjectApi;

  private constructor(
    readonly binaries: K8sBinaries,
    readonly plane: ControlPlane,
    readonly agent: NodeAgent,
    readonly dataRoot: string,
  ) {
    const admin = plane.adminKubeConfig();
    this.core = admin.makeApiClient(CoreV1Api);
    this.batch = admin.makeApiClient(BatchV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(admin);
  }

  static async start(): Promise<TestCluster> {
    const binaries = await ensureK8sBinaries();
    const plane = await ControlPlane.start({ binaries, keepWorkDir: process.env.OSA_K8S_KEEP === '1' });
    const dataRoot = await mkdtemp(path.join(tmpdir(), 'osa-k8s-data-'));
    let agent: NodeAgent | undefined;
    try {
      agent = await NodeAgent.start({
        kubeConfig: plane.adminKubeConfig(),
        nodeName: NODE_NAME,
        dataRoot,
        pvcName: DATA_PVC,
        cwd: REPO_ROOT,
        allocatable: NODE_ALLOCATABLE,
        certDir: plane.certDir,
        memorySampleIntervalMs: 20,
      });
      const cluster = new TestCluster(binaries, plane, agent, dataRoot);
      await cluster.waitForSchedulableNode();
      await cluster.applyRunnerObjects();
      return cluster;
    } catch (err) {
      await agent?.stop();
      await plane.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.agent.stop();
    await this.plane.stop();
    await rm(this.dataRoot, { recursive: true, force: true });
  }

  /** The base manifests rendered, as the runner's side of them needs: everything but workloads. */
  static runnerObjects(): KubernetesObject[] {
    return renderKustomization(path.join(REPO_ROOT, 'k8s/base')).filter((o) =>
      ['Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'PersistentVolumeClaim'].includes(o.kind),
    );
  }

  /** Server-side apply, as `kubectl apply --server-side` does; `dryRun` validates and admits without storing. */
  async apply(object: KubernetesObject, { dryRun = false } = {}): Promise<KubernetesObject> {
    return this.objects.patch(object, undefined, dryRun ? 'All' : undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  /**
   * A bearer token of the runner's ServiceAccount from the TokenRequest API, and a KubeConfig
   * with it: the runner then has exactly the Role's permissions.
   */
  async runnerKubeConfig(): Promise<{ token: string; kubeConfig: ReturnType<ControlPlane['kubeConfigForToken']> }> {
    const request = await this.core.createNamespacedServiceAccountToken({
      name: RUNNER_SERVICE_ACCOUNT,
      namespace: NAMESPACE,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status!.token;
    return { token, kubeConfig: this.plane.kubeConfigForToken(token, RUNNER_SERVICE_ACCOUNT, NAMESPACE) };
  }

  /** Pods of a namespace, optionally by label selector. */
  async pods(namespace = NAMESPACE, labelSelector?: string) {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }

  async jobs(namespace = NAMESPACE, labelSelector?: string) {
    return (await this.batch.listNamespacedJob({ namespace, labelSelector })).items;
  }

  /** Deletes every Job of the namespace (Background) and waits until they and their pods are gone. */
  async clearJobs(namespace = NAMESPACE): Promise<void> {
    for (const job of await this.jobs(namespace)) {
      await this.batch.deleteNamespacedJob({ name: job.metadata!.name!, namespace, propagationPolicy: 'Background' }).catch(() => undefined);
    }
    await waitFor('Jobs and their pods to be gone', async () => (await this.jobs(namespace)).length === 0 && (await this.pods(namespace)).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
  }

  private async waitForSchedulableNode(): Promise<void> {
    // The admission plugin taints a new Node not-ready; the node lifecycle controller lifts the
    // taint once it sees the Ready condition and a fresh Lease.
    await waitFor(
      'the Node to be Ready without taints',
      async () => {
        const node = await this.core.readNode({ name: NODE_NAME });
        const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return ready && (node.spec?.taints ?? []).length === 0;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  }

  private async applyRunnerObjects(): Promise<void> {
    const objects = TestCluster.runnerObjects();
    for (const object of objects) await this.apply(object);
    // The shared volume: a PV pre-bound to the claim, so the PV controller binds it at once.
    const claim = objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
    const spec = (claim as { spec: { accessModes: string[]; resources: { requests: { storage: string } } } }).spec;
    await this.apply({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `${NAMESPACE}-data` },
      spec: {
        capacity: { storage: spec.resources.requests.storage },
        accessModes: spec.accessModes,
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        hostPath: { path: this.dataRoot, type: 'Directory' },
        claimRef: { namespace: NAMESPACE, name: DATA_PVC },
      },
    } as KubernetesObject);
    await waitFor(
      'the data claim to be Bound',
      async () => (await this.core.readNamespacedPersistentVolumeClaim({ name: DATA_PVC, namespace: NAMESPACE })).status?.phase === 'Bound',
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // Pods are refused until the serviceaccount controller has created the namespace's default one.
    await waitFor('the default ServiceAccount', () => this.core.readNamespacedServiceAccount({ name: 'default', namespace: NAMESPACE }).then(() => true, () => false), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
  }
}
