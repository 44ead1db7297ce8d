import { randomUUID } from 'node:crypto';
import { validateConvention } from '#osa/domain';
import { ConventionRepository } from '#osa/persistence';
import { PipelineHarness } from '../support/pipeline-harness.js';
import { DashboardApp } from './dashboard-app.js';

const conventionNamed = (id: string) => validateConvention({ id, ingester: { command: ['true'] } });
const convention = conventionNamed('resume-conv');
const INT32_MAX = 2_147_483_647;

describe('resuming a run and bounded numeric parameters', () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;

  beforeAll(async () => {
    harness = await PipelineHarness.start('resume-api', {}, []);
    dashboard = await DashboardApp.start(harness.config);
  });
  afterAll(async () => {
    await dashboard?.stop();
    await harness?.stop();
  });

  /** A run of its own convention (one active run per convention). */
  async function activeRun(conventionId = convention.id): Promise<string> {
    const id = randomUUID();
    const own = conventionNamed(conventionId);
    await new ConventionRepository().upsert(harness.database.db, own);
    const created = await harness.ledger.createRun({
      id,
      conventionId,
      startJobId: `start-${id}`,
      convention: own,
      batchSize: 10,
      recordLimit: null,
    });
    expect(created.outcome).toBe('created');
    return id;
  }

  it('POST /api/ingestions/:id/resume lifts a pause (200 with the run), and refuses a run that is not paused (409), in the ledger as well', async () => {
    const runId = await activeRun();
    const notPaused = await dashboard.api(`/api/ingestions/${runId}/resume`, { method: 'POST' });
    expect(notPaused.status).toBe(409);
    expect(((await notPaused.json()) as { message: string }).message).toBe(`run ${runId} is not paused`);
    expect((await harness.ledger.resume(runId)).outcome).toBe('not-paused');

    await harness.ledger.pause(runId, new Date(Date.now() + 600_000), 'breaker tripped in the test');
    const resumed = await dashboard.api(`/api/ingestions/${runId}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ id: runId, conventionId: convention.id, status: 'pending' });
    const row = await harness.reads.findRun(runId);
    expect(row).toMatchObject({ pausedUntil: null, pauseReason: null });

    // Resumed once: a second resume is a conflict, not a silent reset.
    expect((await dashboard.api(`/api/ingestions/${runId}/resume`, { method: 'POST' })).status).toBe(409);
  });

  it("refuses the run page's resume of a run that is not paused (409 page), and resumes a paused one", async () => {
    const runId = await activeRun('page-resume-conv');
    const resume = () =>
      dashboard.api(`/runs/${runId}/resume`, { method: 'POST', headers: { accept: 'text/html' }, body: new URLSearchParams({ confirm: 'yes' }) });
    const refused = await resume();
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain(`run ${runId} is not paused`);
    await harness.ledger.pause(runId, new Date(Date.now() + 600_000), 'breaker tripped in the test');
    expect((await resume()).status).toBe(200);
    expect(await harness.reads.findRun(runId)).toMatchObject({ pausedUntil: null });
  });

  it('answers 404 for an unknown run, 400 for a bad id, and needs ingestions:write', async () => {
    expect((await dashboard.api(`/api/ingestions/${randomUUID()}/resume`, { method: 'POST' })).status).toBe(404);
    expect((await dashboard.api('/api/ingestions/not-a-uuid/resume', { method: 'POST' })).status).toBe(400);
    expect((await dashboard.api(`/api/ingestions/${randomUUID()}/resume`, { method: 'POST', token: null })).status).toBe(401);
  });

  it('answers 400 naming the field for a batch, limit or offset past a 32-bit integer', async () => {
    const runId = await activeRun('limits-conv');
    for (const [path, field] of [
      [`/api/ingestions/${runId}/issues?batch=3000000000`, 'batch'],
      [`/api/ingestions/${runId}/issues?offset=3000000000`, 'offset'],
      [`/api/ingestions/${runId}/issues?limit=3000000000`, 'limit'],
      ['/api/ingestions?offset=3000000000', 'offset'],
    ] as const) {
      const res = await dashboard.api(path);
      const body = (await res.json()) as { issues?: Array<{ field: string }> };
      expect([path, res.status, body.issues?.map((i) => i.field)]).toEqual([path, 400, [field]]);
    }
    expect((await dashboard.api(`/api/ingestions/${runId}/issues?batch=${INT32_MAX}&offset=${INT32_MAX}`)).status).toBe(200);
    const replay = await dashboard.api(`/api/ingestions/${runId}/replay`, { method: 'POST', json: { batches: [3_000_000_000] } });
    expect([replay.status, ((await replay.json()) as { issues?: Array<{ field: string }> }).issues?.map((i) => i.field)]).toEqual([
      400,
      ['batches.0'],
    ]);
  });
});
