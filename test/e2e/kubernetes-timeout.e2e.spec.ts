import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { K8sApiSimulator } from '#osa/testing';
import { fixture, PipelineHarness, REPO_ROOT } from '../support/pipeline-harness.js';

const INGESTER_IMAGE = 'registry.example/osa/counting-ingester:1';
const SLOW_HOOK_IMAGE = 'registry.example/osa/slow-hook:1';

/**
 * A hook Job killed by activeDeadlineSeconds must be treated like the local runner's timeout:
 * its finished outcomes are kept, so the retry resumes instead of restarting from zero (which,
 * with a batch longer than the deadline, would never finish).
 */
describe('hook timeout on the Kubernetes runner (API simulator)', () => {
  let harness: PipelineHarness;
  let simulator: K8sApiSimulator;
  let scratch: string;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'osa-k8s-timeout-'));
    scratch = await mkdtemp(path.join(os.tmpdir(), 'osa-k8s-timeout-log-'));
    simulator = await K8sApiSimulator.start({ dataRoot: dataDir, cwd: REPO_ROOT, memorySampleIntervalMs: 20 });
    simulator.mapImage(INGESTER_IMAGE, ['node', fixture('counting-ingester.mjs')]);
    simulator.mapImage(SLOW_HOOK_IMAGE, ['node', fixture('size-hog.mjs')]);
    harness = await PipelineHarness.start('k8s-timeout', {
      RUNNER: 'kubernetes',
      DATA_DIR: dataDir,
      K8S_API_SERVER: simulator.url,
      K8S_POLL_INTERVAL_MS: '20',
      HOOK_ATTEMPTS: '10',
    });
  });
  afterAll(async () => {
    await harness.stop();
    await simulator.close();
  });

  it('resumes a timed-out hook Job from its checkpoint, never redoing finished records', async () => {
    const log = path.join(scratch, 'resume.log');
    await harness.applyConvention({
      id: 'k8s-resume',
      ingester: { image: INGESTER_IMAGE, command: ['unused-by-kubernetes'], config: { total: 12, page_size: 12 } },
      hooks: [
        {
          name: 'slow',
          image: SLOW_HOOK_IMAGE,
          command: ['unused-by-kubernetes'],
          config: { log_file: log, per_record_ms: 250 },
          limits: { timeout_seconds: 1 },
        },
      ],
    });
    const done = await harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId: 'k8s-resume' })), 60_000);
    expect(done).toMatchObject({ status: 'completed', publishedCount: 12, batchesFailed: 0 });
    const order = (await readFile(log, 'utf8')).trim().split('\n');
    expect(new Set(order).size).toBe(12);
    // Only a record in flight when the deadline struck may have been processed twice.
    expect(order.length - new Set(order).size).toBeLessThanOrEqual(3);
  });
});
