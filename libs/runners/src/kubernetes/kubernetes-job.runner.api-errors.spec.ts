import { ErrorKind, PermanentError, TransientError } from '#osa/domain';
import { KubernetesJobRunner } from './kubernetes-job.runner.js';
import { buildJob } from './job-spec.builder.js';
import { specHash } from './job-naming.js';
import { failure, type Harness, startHarness } from '../../../../test/support/kubernetes-runner-harness.js';

describe(KubernetesJobRunner.name, () => {
  let h: Harness;
  afterEach(async () => h?.close());

  describe('run (Kubernetes API errors)', () => {
    it('throws a permanent forbidden naming the verb and resource on 403', async () => {
      h = await startHarness();
      h.sim.failApi({ method: 'POST', path: '/jobs', code: 403 });
      const err = await failure(h.runner.run(h.request()));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ kind: ErrorKind.Forbidden });
      expect(err.message).toContain('create jobs');
      expect(err.message).toContain('cannot create resource "jobs"');
      expect(err.message).toMatch(/Role/);
    });

    it('throws a permanent namespace_missing when the namespace does not exist', async () => {
      h = await startHarness({ config: { namespace: 'nowhere' } });
      const err = await failure(h.runner.run(h.request()));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).toMatchObject({ kind: ErrorKind.NamespaceMissing });
      expect(err.message).toContain('"nowhere"');
    });

    it.each([429, 500, 503] as const)('throws a transient kubernetes_api on HTTP %i', async (code) => {
      h = await startHarness();
      h.sim.failApi({ method: 'POST', path: '/jobs', code });
      const err = await failure(h.runner.run(h.request()));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.KubernetesApi });
    });

    it('throws a transient kubernetes_api when the API server is unreachable', async () => {
      h = await startHarness();
      const { createKubernetesApis, kubeConfigForServer } = await import('./kube-client.factory.js');
      const runner = new KubernetesJobRunner(h.config, createKubernetesApis(kubeConfigForServer('http://127.0.0.1:9')), { warn: () => undefined });
      const err = await failure(runner.run(h.request()));
      expect(err).toBeInstanceOf(TransientError);
      expect(err).toMatchObject({ kind: ErrorKind.KubernetesApi });
    });

    it('keeps waiting through a few failed status polls', async () => {
      h = await startHarness();
      h.sim.failApi({ method: 'GET', path: /\/jobs\/[^/]+\/status$/, code: 500, times: 2 });
      await expect(h.runner.run(h.request())).resolves.toMatchObject({ exitCode: 0 });
      expect(h.sim.calls('GET', '/status').filter((c) => c.status === 500)).toHaveLength(2);
    });

    it('attaches to the Job a concurrent worker created when create answers 409', async () => {
      h = await startHarness();
      const request = h.request();
      let competitor: string | undefined;
      h.sim.onRequest((call) => {
        if (call.method !== 'POST' || competitor) return;
        // Another worker wins the race between our lookup and our create.
        const memory = 256 * 1024 ** 2;
        const spec = specHash(request, memory);
        const subDirs = request.dirs;
        competitor = h.sim.createJob(buildJob({ request, memoryBytes: memory, dirs: subDirs, spec, config: h.config })).metadata?.uid;
      });

      const result = await h.runner.run(request);

      expect(result.exitCode).toBe(0);
      expect(h.sim.calls('POST', '/jobs').map((c) => c.status)).toEqual([409]);
      expect(h.sim.calls('GET', '/status').length).toBeGreaterThan(0);
      expect(competitor).toBeDefined();
    });
  });
});
