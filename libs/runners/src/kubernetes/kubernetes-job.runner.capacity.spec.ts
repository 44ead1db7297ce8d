import { waitFor } from '#osa/testing';
import { buildJob } from './job-spec.builder.js';
import { KubernetesJobRunner } from './kubernetes-job.runner.js';
import { type Harness, startHarness } from '../../../../test/support/kubernetes-runner-harness.js';

describe(KubernetesJobRunner.name, () => {
  let h: Harness;
  afterEach(async () => h?.close());

  describe('capacity', () => {
    it('reports available when nothing is pending', async () => {
      h = await startHarness();
      await expect(h.runner.capacity()).resolves.toEqual({ available: true });
    });

    it('reports available while a pod is merely Pending, pulling its image', async () => {
      h = await startHarness();
      h.sim.injectPodFault({ type: 'image-pull' });
      // Another worker's Job, still pulling its image.
      const request = h.request({ image: 'example.org/slow-pull:1' });
      h.sim.createJob(buildJob({ request, memoryBytes: 256 * 1024 ** 2, dirs: request.dirs, spec: 'x', config: h.config }));
      await waitFor('the pod to be pulling', () =>
        h.sim.pods().some((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull'),
      );
      expect(h.sim.pods()[0]!.status?.phase).toBe('Pending');
      await expect(h.runner.capacity()).resolves.toEqual({ available: true });
    });

    it('reports unschedulable with the scheduler message when a pod is Unschedulable', async () => {
      h = await startHarness();
      h.sim.injectPodFault({ type: 'unschedulable', message: '0/5 nodes are available: 5 Insufficient cpu.' });
      const abort = new AbortController();
      const run = h.runner.run(h.request({ signal: abort.signal })).catch(() => undefined);
      await waitFor('the pod to be Unschedulable', () => h.sim.pods().some((p) => p.status?.conditions?.length));

      await expect(h.runner.capacity()).resolves.toEqual({
        available: false,
        signal: 'unschedulable',
        message: '0/5 nodes are available: 5 Insufficient cpu.',
      });
      expect(h.sim.calls('GET', /\/pods$/).at(-1)!.query).toMatchObject({
        labelSelector: 'app.kubernetes.io/managed-by=osa-ingest',
        fieldSelector: 'status.phase=Pending',
      });
      abort.abort();
      await run;
    });

    it('reports available and logs when the check itself fails', async () => {
      h = await startHarness();
      h.sim.failApi({ method: 'GET', path: '/pods', code: 403 });
      await expect(h.runner.capacity()).resolves.toEqual({ available: true });
      expect(h.warnings).toEqual([expect.stringContaining('capacity check failed')]);
    });
  });
});
