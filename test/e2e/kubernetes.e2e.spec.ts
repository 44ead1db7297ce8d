import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseConvention } from '#osa/domain';
import { K8sApiSimulator } from '#osa/testing';
import { fixture, PipelineHarness, REPO_ROOT } from '../support/pipeline-harness.js';

const INGESTER_IMAGE = 'registry.example/osa/counting-ingester:1';
const HOOK_IMAGE = 'registry.example/osa/flag-hook:1';

/** The whole pipeline with RUNNER=kubernetes, every container a Job on the API simulator. */
describe('pipeline end to end on the Kubernetes runner (API simulator)', () => {
  let harness: PipelineHarness;
  let simulator: K8sApiSimulator;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'osa-k8s-e2e-'));
    simulator = await K8sApiSimulator.start({ dataRoot: dataDir, cwd: REPO_ROOT, memorySampleIntervalMs: 20 });
    simulator.mapImage(INGESTER_IMAGE, ['node', fixture('counting-ingester.mjs')]);
    simulator.mapImage(HOOK_IMAGE, ['node', fixture('flag-hook.mjs')]);
    harness = await PipelineHarness.start('k8s', {
      RUNNER: 'kubernetes',
      DATA_DIR: dataDir,
      K8S_API_SERVER: simulator.url,
      K8S_POLL_INTERVAL_MS: '20',
      K8S_SCHEDULING_TIMEOUT_SECONDS: '5',
    });
  });
  afterAll(async () => {
    await harness.stop();
    await simulator.close();
  });

  it('completes a multi-batch run with exact counts, every container run as a Job', async () => {
    await harness.applyConvention({
      id: 'k8s-counting',
      ingester: { image: INGESTER_IMAGE, command: ['unused-by-kubernetes'], config: { total: 45, page_size: 10, reject_every: 4 } },
      hooks: [{ name: 'flag', image: HOOK_IMAGE, command: ['unused-by-kubernetes'] }],
    });
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'k8s-counting' }));
    const run = await harness.waitForRun(runId);
    const rejected = Array.from({ length: 45 }, (_, i) => i).filter((i) => i % 4 === 0).length;
    expect(run).toMatchObject({ status: 'completed', batchesIngested: 5, batchesPublished: 5, batchesFailed: 0, publishedCount: 45 - rejected });
    const creates = simulator.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs') && r.status === 201);
    expect(creates).toHaveLength(10);
    const deletes = simulator.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/jobs/'));
    expect(deletes).toHaveLength(10);
    expect(deletes.every((r) => r.query.propagationPolicy === 'Background' || r.body?.propagationPolicy === 'Background')).toBe(true);
  });
});

describe('the bundled example convention on the Kubernetes runner (API simulator)', () => {
  let harness: PipelineHarness;
  let simulator: K8sApiSimulator;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'osa-k8s-geo-'));
    simulator = await K8sApiSimulator.start({ dataRoot: dataDir, cwd: REPO_ROOT, memorySampleIntervalMs: 20 });
    harness = await PipelineHarness.start('k8s-geo', {
      RUNNER: 'kubernetes',
      DATA_DIR: dataDir,
      K8S_API_SERVER: simulator.url,
      K8S_POLL_INTERVAL_MS: '20',
    });
  });
  afterAll(async () => {
    await harness.stop();
    await simulator.close();
  });

  it('ingests the whole example dataset with the counts it promises', async () => {
    const convention = parseConvention(await readFile(path.join(REPO_ROOT, 'tools/examples/geo/convention.yaml'), 'utf8'));
    // Each image's entrypoint is the program the convention's command names (docker/README.md).
    for (const container of [convention.ingester!, ...convention.hooks]) simulator.mapImage(container.image!, container.command);
    await harness.applyConvention(convention);
    const expected = JSON.parse(await readFile(path.join(REPO_ROOT, 'tools/examples/geo/expected.json'), 'utf8')) as {
      batches: number;
      records: number;
      published: number;
      rejected_by_check_schema: number;
    };
    const run = await harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId: convention.id })), 120_000);
    expect(run).toMatchObject({
      status: 'completed',
      batchesIngested: expected.batches,
      batchesPublished: expected.batches,
      recordsSourced: expected.records,
      publishedCount: expected.published,
      rejectedCount: expected.rejected_by_check_schema,
    });
  });
});
