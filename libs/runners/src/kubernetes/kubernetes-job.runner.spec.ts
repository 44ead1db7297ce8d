import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '#osa/testing';
import { KubernetesJobRunner } from './kubernetes-job.runner.js';
import { type Harness, Images, startHarness } from '../../../../test/support/kubernetes-runner-harness.js';

describe(KubernetesJobRunner.name, () => {
  let h: Harness;
  afterEach(async () => h?.close());

  describe('run', () => {
    it('runs the container as a Job and resolves once it completed, with its output in the request dirs', async () => {
      h = await startHarness();
      const request = h.request({ image: Images.okWithFiles });

      const result = await h.runner.run(request);

      expect(result).toMatchObject({ exitCode: 0, reused: false, jobAttempt: 1 });
      const records = await readFile(path.join(h.dataRoot, request.dirs.out, 'records.jsonl'), 'utf8');
      expect(JSON.parse(records)).toMatchObject({ source_id: 'r1' });
      expect(await readFile(path.join(h.dataRoot, request.dirs.files, 'r1', 'data.txt'), 'utf8')).toBe('payload');
      expect(h.sim.calls('POST', '/jobs')).toHaveLength(1);
    });

    it('captures the last log lines before deleting the Job with Background propagation', async () => {
      h = await startHarness({ config: { logTailLines: 3 } });

      const result = await h.runner.run(h.request());

      expect(result.logTail).toEqual(['progress line 59', 'progress line 60', 'done']);
      const logCall = h.requests().findIndex((r) => r.path.endsWith('/log'));
      const deleteCall = h.requests().findIndex((r) => r.method === 'DELETE');
      expect(h.requests()[logCall]!.query.tailLines).toBe('3');
      expect(logCall).toBeLessThan(deleteCall);
      expect(h.requests()[deleteCall]!.query.propagationPolicy).toBe('Background');
      await waitFor('the Job and its pods to be gone', () => h.sim.jobs().length === 0 && h.sim.pods().length === 0);
    });
  });
});
