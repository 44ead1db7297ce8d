// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { ErrorKind, OOMError, PermanentError, TransientError } from '#osa/domain';
import { waitFor } from '#osa/testing';
import { KubernetesJobRunner } from './kubernetes-job.runner.js';
import { failure, type Harness, Images, startHarness } from '../../../../test/support/kubernetes-runner-harness.js';

describe(KubernetesJobRunner.name, () => {
  let h: Harness;
  afterEach(async () => h?.close());

  describe('run (container failures)', () => {
    it('throws OOMError when the pod exceeds its memory limit', async () => {
      h = await startHarness();
      const err = await failure(h.runner.run(h.request({ image: Images.hog, limits: { timeout_seconds: 60, memory: '128m', cpu: '1' } })));
      expect(err).toBeInstanceOf(OOMError);
      expect(err).toMatchObject({ kind: ErrorKind.Oom, memoryLimitBytes: 128 * 1024 ** 2 });
      expect((err as OOMError).logTail).toContain('allocating 400 MiB');
    });

    it('throws OOMError when the Job says it succeeded but the container was OOMKilled (kubernetes#131530)', async () => {
      h = await startHarness();
      h.sim.injectPodFault({ type: 'oom', afterMs: 1, jobSucceeds: true }, { image: Images.hang });
      const err = await failure(h.runner.run(h.request({ image: Images.hang })));
      expect(err).toBeInstanceOf(OOMError);
    });

    it('throws a transient ingester_exit for an ingester exiting non-zero, with its log tail', async () => {
      h = await startHarness();
      const err = await failure(h.runner.run(h.request({ image: Images.exit3 })));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.IngesterExit, logTail: expect.arrayContaining(['failing with exit code 3']) });
    });

    it('throws a permanent ingester_exit for an exit code the convention lists as permanent', async () => {
      h = await startHarness();
      const err = await failure(h.runner.run(h.request({ image: Images.exit3, permanentExitCodes: [3] })));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ kind: ErrorKind.IngesterExit });
    });

    it('throws a permanent hook_exit for a hook exiting non-zero', async () => {
      h = await startHarness();
      const err = await failure(h.runner.run(h.request({ role: 'hook', image: Images.exit3 })));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ kind: ErrorKind.HookExit });
    });

    it('throws a permanent image_pull naming the image, and deletes the Job', async () => {
      h = await startHarness();
      h.sim.injectPodFault({ type: 'image-pull' });
      const err = await failure(h.runner.run(h.request({ image: 'ghcr.io/example/missing:9' })));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ kind: ErrorKind.ImagePull });
      expect(err.message).toContain('ghcr.io/example/missing:9');
      expect(err.message).toMatch(/ErrImagePull|ImagePullBackOff/);
      await waitFor('the Job to be deleted', () => h.sim.jobs().length === 0);
    });

    it('throws a transient unschedulable with the scheduler message after the scheduling timeout', async () => {
      h = await startHarness({ config: { schedulingTimeoutSeconds: 2 } });
      h.sim.injectPodFault({ type: 'unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' });
      const started = Date.now();
      const err = await failure(h.runner.run(h.request()));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.Unschedulable });
      expect(err.message).toContain('0/3 nodes are available: 3 Insufficient memory.');
      // lastTransitionTime has one-second precision, so the wait may be up to a second shorter.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      await waitFor('the Job to be deleted', () => h.sim.jobs().length === 0);
    });

    it('succeeds when an Unschedulable pod becomes schedulable within the timeout', async () => {
      h = await startHarness({ config: { schedulingTimeoutSeconds: 30 } });
      h.sim.injectPodFault({ type: 'unschedulable' });
      const run = h.runner.run(h.request());
      await waitFor('the pod to be Unschedulable', () => h.sim.pods().some((p) => p.status?.conditions?.some((c) => c.reason === 'Unschedulable')));
      h.sim.makeSchedulable();
      await expect(run).resolves.toMatchObject({ exitCode: 0 });
    });

    it("throws a transient timeout (the local runner's kind) when the Job runs past activeDeadlineSeconds", async () => {
      h = await startHarness();
      const err = await failure(h.runner.run(h.request({ image: Images.hang, limits: { timeout_seconds: 1, memory: '256m', cpu: '0.5' } })));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.Timeout, logTail: ['started'] });
    });

    it('throws a transient evicted when the kubelet evicts the pod', async () => {
      h = await startHarness();
      h.sim.injectPodFault({ type: 'evict', afterMs: 100 });
      const err = await failure(h.runner.run(h.request({ image: Images.hang })));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.Evicted });
      expect(err.message).toContain('The node was low on resource: memory');
    });

    it('throws a transient vanished when the Job disappears while it is watched', async () => {
      h = await startHarness();
      const run = h.runner.run(h.request({ image: Images.hang }));
      const job = await waitFor('the Job to run', () => h.sim.jobs().find((j) => j.status?.ready === 1));
      h.sim.vanishJob(job.metadata!.name!);
      const err = await failure(run);
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.Vanished });
    });

    it('throws a transient vanished when the TTL controller deleted the finished Job before it was seen', async () => {
      h = await startHarness({ simulator: { ttlScale: 0 }, config: { ttlSecondsAfterFinished: 0 } });
      // Hold every read of the Job until the TTL controller has deleted it, so the runner never
      // catches the short moment between success and deletion (that would be a success).
      let created = false;
      h.sim.onRequest(async (req) => {
        if (req.method === 'POST') created = true;
        if (created && req.method === 'GET' && /\/jobs\/[^/]+(\/status)?$/.test(req.path)) {
          await waitFor('the TTL controller to delete the Job', () => h.sim.jobs().length === 0);
        }
      });
      const err = await failure(h.runner.run(h.request()));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.Vanished });
    });
  });
});
