import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiException, BatchV1Api, CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { createKubernetesApis, kubeConfigForServer } from '#osa/runners-kubernetes';
import { waitFor } from '../wait-for.js';
import { K8sApiSimulator } from './k8s-api.simulator.js';

const ns = 'osa-ingest';

function jobBody(name: string, overrides: { command?: string[]; podSpec?: object } = {}): V1Job {
  return {
    metadata: { name, labels: { app: 'test' } },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 60,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', command: overrides.command ?? ['node', '-e', 'console.log("hello")'] }],
          ...overrides.podSpec,
        },
      },
    },
  };
}

async function apiError(promise: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, status: JSON.parse(err.body as string) };
    throw err;
  }
  throw new Error('expected an API error');
}

describe(K8sApiSimulator.name, () => {
  let sim: K8sApiSimulator;
  let dataRoot: string;
  let batch: BatchV1Api;
  let core: CoreV1Api;

  beforeEach(async () => {
    dataRoot = await mkdtemp(path.join(tmpdir(), 'k8s-sim-'));
    sim = await K8sApiSimulator.start({ dataRoot });
    ({ batch, core } = createKubernetesApis(kubeConfigForServer(sim.url)));
  });
  afterEach(async () => {
    await sim.close();
    await rm(dataRoot, { recursive: true, force: true });
  });

  describe('jobs', () => {
    it('creates a Job with uid, timestamps and the controller labels, and runs its pod to completion', async () => {
      const created = await batch.createNamespacedJob({ namespace: ns, body: jobBody('hello') });
      expect(created.metadata).toMatchObject({ name: 'hello', namespace: ns, uid: expect.any(String), creationTimestamp: expect.any(Date) });
      expect(created.metadata!.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'hello', 'job-name': 'hello' });

      const done = await waitFor('the Job to complete', async () => {
        const job = await batch.readNamespacedJobStatus({ name: 'hello', namespace: ns });
        return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && job;
      });
      expect(done.status).toMatchObject({ succeeded: 1, completionTime: expect.any(Date) });
      expect(done.status!.conditions!.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
      expect(done.status!.conditions![1]).toMatchObject({ status: 'True', reason: 'CompletionsReached', lastTransitionTime: expect.any(Date) });

      const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'batch.kubernetes.io/job-name=hello' });
      expect(pods.items).toHaveLength(1);
      const pod = pods.items[0]!;
      expect(pod.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Job', uid: created.metadata!.uid, controller: true });
      expect(pod.status!.phase).toBe('Succeeded');
      expect(pod.status!.containerStatuses![0]!.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: ns, tailLines: 5 })).toBe('hello\n');
    });

    it('answers a duplicate name with a 409 AlreadyExists Status', async () => {
      await batch.createNamespacedJob({ namespace: ns, body: jobBody('dup') });
      const err = await apiError(batch.createNamespacedJob({ namespace: ns, body: jobBody('dup') }));
      expect(err).toEqual({
        code: 409,
        status: expect.objectContaining({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 }),
      });
    });

    it('answers a missing Job with 404 NotFound and a missing namespace with details.kind namespaces', async () => {
      expect(await apiError(batch.readNamespacedJobStatus({ name: 'nope', namespace: ns }))).toMatchObject({
        code: 404,
        status: { reason: 'NotFound' },
      });
      const err = await apiError(batch.createNamespacedJob({ namespace: 'elsewhere', body: jobBody('x') }));
      expect(err).toMatchObject({ code: 404, status: { reason: 'NotFound', details: { kind: 'namespaces' } } });
    });

    it('rejects dnsPolicy None without nameservers with 422 Invalid, as the API server does', async () => {
      const err = await apiError(batch.createNamespacedJob({ namespace: ns, body: jobBody('dns', { podSpec: { dnsPolicy: 'None' } }) }));
      expect(err).toMatchObject({ code: 422, status: { reason: 'Invalid' } });
    });

    it('lists Jobs by label selector', async () => {
      await batch.createNamespacedJob({ namespace: ns, body: jobBody('one') });
      const hit = await batch.listNamespacedJob({ namespace: ns, labelSelector: 'app=test' });
      const miss = await batch.listNamespacedJob({ namespace: ns, labelSelector: 'app=other' });
      expect([hit.items.length, miss.items.length]).toEqual([1, 0]);
    });

    it('deletes pods with Background propagation and orphans them without it', async () => {
      await batch.createNamespacedJob({ namespace: ns, body: jobBody('bg', { command: ['node', '-e', 'setInterval(()=>{},1000)'] }) });
      await batch.createNamespacedJob({ namespace: ns, body: jobBody('orphan', { command: ['node', '-e', 'setInterval(()=>{},1000)'] }) });
      await waitFor('two pods', () => sim.pods().length === 2);
      await batch.deleteNamespacedJob({ name: 'bg', namespace: ns, propagationPolicy: 'Background' });
      await batch.deleteNamespacedJob({ name: 'orphan', namespace: ns });
      await waitFor('the Background pod to go', () => sim.pods().length === 1);
      expect(sim.pods()[0]!.metadata?.labels?.['job-name']).toBe('orphan');
      expect(sim.pods()[0]!.metadata?.ownerReferences).toEqual([]);
    });

    it('deletes finished Jobs when their TTL expires', async () => {
      await batch.createNamespacedJob({ namespace: ns, body: jobBody('ttl') });
      await waitFor('completion', () => sim.jobs()[0]?.status?.completionTime);
      sim.expireTtl();
      expect(await apiError(batch.readNamespacedJobStatus({ name: 'ttl', namespace: ns }))).toMatchObject({ code: 404 });
    });
  });

  describe('failApi', () => {
    it('answers matching calls with the given status the given number of times', async () => {
      sim.failApi({ method: 'GET', path: '/pods', code: 429, times: 2 });
      await apiError(core.listNamespacedPod({ namespace: ns }));
      const second = await apiError(core.listNamespacedPod({ namespace: ns }));
      expect(second).toMatchObject({ code: 429, status: { reason: 'TooManyRequests' } });
      await expect(core.listNamespacedPod({ namespace: ns })).resolves.toMatchObject({ items: [] });
    });
  });
});
