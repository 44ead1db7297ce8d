import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TransientError } from '#osa/domain';
import { waitFor } from '#osa/testing';
import { KubernetesJobRunner } from './kubernetes-job.runner.js';
import { type Harness, Images, prepareInput, startHarness } from '../../../../test/support/kubernetes-runner-harness.js';

describe(KubernetesJobRunner.name, () => {
  let h: Harness;
  afterEach(async () => h?.close());

  describe('run (re-attachment)', () => {
    it('attaches a restarted worker to the running Job instead of starting a duplicate', async () => {
      h = await startHarness();
      const killed = new AbortController();
      const first = h.request({ image: Images.gated, attempt: 1, signal: killed.signal });
      const firstIn = await prepareInput(h, first);
      const firstRun = h.runner.run(first);
      await waitFor('the first Job to run', () => h.sim.jobs().find((j) => j.status?.ready === 1));

      killed.abort(new Error('worker killed'));
      await expect(firstRun).rejects.toBeInstanceOf(TransientError);
      expect(h.sim.jobs()).toHaveLength(1);

      // BullMQ starts the stalled job again: a new attempt with its own directories.
      const second = h.request({ image: Images.gated, attempt: 2 });
      const secondRun = h.runner.run(second);
      await waitFor('the second run to poll the first Job', () => h.sim.calls('GET', '/status').length > 2);
      await writeFile(path.join(firstIn, 'go'), '');
      const result = await secondRun;

      expect(h.sim.calls('POST', '/jobs')).toHaveLength(1);
      expect(result).toMatchObject({ exitCode: 0, reused: false, jobAttempt: 1 });
      const records = await readFile(path.join(h.dataRoot, second.dirs.out, 'records.jsonl'), 'utf8');
      expect(JSON.parse(records)).toMatchObject({ source_id: 'late' });
    });

    it('re-attaches with the same attempt when the worker restarts without a new attempt', async () => {
      h = await startHarness();
      const killed = new AbortController();
      const request = h.request({ image: Images.gated, signal: killed.signal });
      const input = await prepareInput(h, request);
      const firstRun = h.runner.run(request);
      await waitFor('the Job to run', () => h.sim.jobs().find((j) => j.status?.ready === 1));
      killed.abort();
      await expect(firstRun).rejects.toBeInstanceOf(TransientError);

      const secondRun = h.runner.run({ ...request, signal: undefined });
      await writeFile(path.join(input, 'go'), '');

      await expect(secondRun).resolves.toMatchObject({ exitCode: 0, jobAttempt: 1 });
      expect(h.sim.calls('POST', '/jobs')).toHaveLength(1);
    });

    it('reuses the output of a Job that already succeeded, without running it again', async () => {
      h = await startHarness();
      // A worker whose Job succeeded but whose cleanup failed before it could commit the output.
      h.sim.failApi({ method: 'DELETE', path: '/jobs/', code: 500 });
      await h.runner.run(h.request({ attempt: 1 }));
      expect(h.warnings).toEqual([expect.stringContaining('TTL will remove it')]);
      expect(h.sim.jobs()).toHaveLength(1);

      const second = h.request({ attempt: 2 });
      const result = await h.runner.run(second);

      expect(result).toMatchObject({ exitCode: 0, reused: true, jobAttempt: 1 });
      expect(h.sim.calls('POST', '/jobs')).toHaveLength(1);
      expect(await readFile(path.join(h.dataRoot, second.dirs.out, 'records.jsonl'), 'utf8')).toContain('"r1"');
    });

    it("starts a new Job when the earlier attempt's Job failed", async () => {
      h = await startHarness();
      await expect(h.runner.run(h.request({ image: Images.exit3, attempt: 1 }))).rejects.toBeInstanceOf(TransientError);
      await expect(h.runner.run(h.request({ image: Images.exit3, attempt: 2 }))).rejects.toBeInstanceOf(TransientError);
      expect(h.sim.calls('POST', '/jobs')).toHaveLength(2);
    });
  });
});
