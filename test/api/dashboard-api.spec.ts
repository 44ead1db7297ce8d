import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { waitFor } from '#osa/testing';
import { StageMetrics } from '#osa/observability';
import { countingConvention, PipelineHarness } from '../support/pipeline-harness.js';
import { IngestionsController } from '../../apps/dashboard/src/api/ingestions.controller.js';
import { replayCommand } from '../../tools/cli/replay-command.js';
import { basicAuthHeader, BOARD_PASSWORD, BOARD_USER, DashboardApp } from './dashboard-app.js';

// Response bodies are asserted field by field; a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** The fields of the API's answers that these tests read beyond matching them whole. */
interface StartJob {
  state: string;
  runId?: string | null;
  failure?: { reason: string } | null;
}
interface Card {
  status: string;
  counters: Record<string, number>;
  batches: { items: unknown[] };
  failedBatches: Array<{ logs: string[] }>;
}
interface IssuesPage {
  items: Array<{ id: number; kind: string; batchIndex: number }>;
}
interface Refusal {
  message: string;
  issues: Array<{ field: string }>;
}

const gatedHook = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/gated-hook.mjs');

describe(IngestionsController.name, () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;

  beforeAll(async () => {
    harness = await PipelineHarness.start('api');
    dashboard = await DashboardApp.start(harness.config);
  });
  afterAll(async () => {
    await dashboard?.stop();
    await harness?.stop();
  });

  const json = async <T = Json>(res: Response) => ({ status: res.status, body: (await res.json()) as T });

  async function runIdOf(jobId: string): Promise<string> {
    return waitFor(`start job ${jobId} to create its run`, async () => {
      const { body } = await json<StartJob>(await dashboard.api(`/api/start-jobs/${jobId}`));
      if (body.state === 'failed') throw new Error(`start refused: ${body.failure?.reason}`);
      return body.runId ?? undefined;
    });
  }

  async function runCard(runId: string, until: (card: Card) => boolean) {
    return waitFor(
      `run ${runId} card`,
      async () => {
        const { body } = await json<Card>(await dashboard.api(`/api/ingestions/${runId}`));
        return until(body) ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  describe('authentication', () => {
    it('answers 401 to API calls without the bearer token or with a wrong one', async () => {
      expect((await dashboard.api('/api/ingestions', { token: null })).status).toBe(401);
      expect((await dashboard.api('/api/conventions', { token: 'wrong-token-wrong-token-wrong' })).status).toBe(401);
      expect((await dashboard.api('/api/ingestions', { method: 'POST', token: null, json: { conventionId: 'x' } })).status).toBe(401);
    });

    it('protects Bull Board with the API token and serves every queue behind it', async () => {
      const none = await fetch(`${dashboard.url}/queues`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const basic = await fetch(`${dashboard.url}/queues/api/queues`, { headers: { authorization: basicAuthHeader(BOARD_USER, BOARD_PASSWORD) } });
      expect(basic.status).toBe(401);
      expect((await dashboard.api('/queues/api/queues', { token: 'wrong-token-wrong-token-wrong' })).status).toBe(401);

      const page = await dashboard.api('/queues');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const queues = await dashboard.api('/queues/api/queues');
      expect(queues.status).toBe(200);
      const names = ((await queues.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
      expect(names).toEqual(['ingest-batch-ready', 'ingest-events', 'ingest-hooks-completed', 'ingest-next-batch', 'start-ingest']);
    });

    it('leaves health, metrics and the OpenAPI document open for probes, scrapers and client generators', async () => {
      expect((await fetch(`${dashboard.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${dashboard.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${dashboard.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${dashboard.url}/api/openapi.json`)).status).toBe(200);
    });
  });

  describe('POST /api/ingestions', () => {
    it('answers 400 naming the field for an invalid body', async () => {
      const bad = await json(await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId: 'multi', batchSize: 'ten' } }));
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/batchSize/);
      expect(bad.body.issues).toEqual([expect.objectContaining({ field: 'batchSize' })]);

      const unknown = await json<Refusal>(await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId: 'multi', colour: 'red' } }));
      expect(unknown.status).toBe(400);
      expect(unknown.body.issues[0]?.field).toBe('colour');

      const missing = await json(await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId: 'never-registered' } }));
      expect(missing.status).toBe(400);
      expect(missing.body.message).toMatch(/conventionId: no convention "never-registered"/);
    });

    it('publishes a start job (202) whose run the API then shows completed, with its ledger', async () => {
      await harness.applyConvention(countingConvention('api-multi', { total: 35, page_size: 10, reject_every: 5 }));
      const started = await json(await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId: 'api-multi', batchSize: 10 } }));
      expect(started.status).toBe(202);
      const runId = await runIdOf((started.body as { jobId: string }).jobId);

      const card = await runCard(runId, (c) => c.status === 'completed');
      expect(card).toMatchObject({
        id: runId,
        conventionId: 'api-multi',
        counters: { batchesIngested: 4, batchesPublished: 4, batchesFailed: 0, recordsSourced: 35, published: 28, rejected: 7 },
        latestFailure: null,
        failedBatches: [],
        batches: { byState: { published: 4 }, hooks: { flag: { passed: 28, rejected: 7 } } },
        issuesByKind: { rejected: 7 },
      });
      expect(card.batches.items).toHaveLength(4);

      const issues = await json<IssuesPage>(await dashboard.api(`/api/ingestions/${runId}/issues?batch=0&limit=5`));
      expect(issues.body.items).toHaveLength(2);
      expect(issues.body.items.every((i) => i.batchIndex === 0)).toBe(true);
      expect(issues.body).toMatchObject({ total: 2, limit: 5, offset: 0 });

      // Paged by kind across batches: every rejected record once, in the order written.
      const firstPage = await json<IssuesPage>(await dashboard.api(`/api/ingestions/${runId}/issues?kind=rejected&limit=4`));
      expect(firstPage.body).toMatchObject({ total: 7, limit: 4, offset: 0 });
      const lastPage = await json<IssuesPage>(await dashboard.api(`/api/ingestions/${runId}/issues?kind=rejected&limit=4&offset=4`));
      expect(lastPage.body).toMatchObject({ total: 7, limit: 4, offset: 4 });
      const paged = [...firstPage.body.items, ...lastPage.body.items];
      expect(paged).toHaveLength(7);
      expect(paged.every((i) => i.kind === 'rejected')).toBe(true);
      expect(new Set(paged.map((i) => i.id)).size).toBe(7);
      const oneBatch = await json<IssuesPage>(await dashboard.api(`/api/ingestions/${runId}/issues?batch=3&kind=rejected`));
      expect(oneBatch.body.items.map((i) => i.batchIndex)).toEqual([3]);
      expect((await json(await dashboard.api(`/api/ingestions/${runId}/issues?kind=invalid_json`))).body).toMatchObject({ total: 0, items: [] });
      const badPage = await json<Refusal>(await dashboard.api(`/api/ingestions/${runId}/issues?kind=Not%20a%20kind&offset=-1`));
      expect(badPage.status).toBe(400);
      expect(badPage.body.issues.map((i) => i.field).sort()).toEqual(['kind', 'offset']);

      const list = await json(await dashboard.api('/api/ingestions?convention=api-multi&status=completed&limit=1&offset=0'));
      expect(list.body).toMatchObject({ total: 1, limit: 1, offset: 0, items: [{ id: runId }] });
      const empty = await json(await dashboard.api('/api/ingestions?convention=api-multi&offset=1'));
      expect(empty.body).toMatchObject({ total: 1, items: [] });
      expect((await dashboard.api('/api/ingestions?status=done')).status).toBe(400);
      expect((await dashboard.api('/api/ingestions/not-a-uuid')).status).toBe(400);
      expect((await dashboard.api('/api/ingestions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });
  });

  describe('POST /api/ingestions/:id/replay', () => {
    let gateDir: string;
    beforeAll(async () => {
      gateDir = await mkdtemp(path.join(os.tmpdir(), 'osa-gate-'));
    });
    afterAll(() => rm(gateDir, { recursive: true, force: true }));

    it('re-runs the batches that failed in the hooks, reopening the completed run, with a memory override', async () => {
      const gate = path.join(gateDir, 'closed');
      await writeFile(gate, '');
      await harness.applyConvention({
        id: 'api-replay',
        ingester: {
          command: ['node', path.join(harness.config.local.cwd, 'test/fixtures/counting-ingester.mjs')],
          config: { total: 20, page_size: 10 },
          limits: { timeout_seconds: 60, memory: '512m' },
        },
        hooks: [{ name: 'gated', command: ['node', gatedHook], config: { gate }, limits: { timeout_seconds: 60, memory: '256m' } }],
      });
      const started = await json(await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId: 'api-replay' } }));
      const runId = await runIdOf((started.body as { jobId: string }).jobId);
      const failed = await runCard(runId, (c) => c.status === 'completed');
      expect(failed.counters).toMatchObject({ batchesIngested: 2, batchesFailed: 2, published: 0 });
      expect(failed.failedBatches).toEqual([
        expect.objectContaining({ batchIndex: 0, stage: 'hooks', reason: expect.stringMatching(/exit/) }),
        expect.objectContaining({ batchIndex: 1, stage: 'hooks' }),
      ]);
      expect(failed.failedBatches[0]?.logs.join('\n')).toMatch(/gate .* is closed/);

      expect((await dashboard.api(`/api/ingestions/${runId}/replay`, { method: 'POST', json: { memory: 'lots' } })).status).toBe(400);
      await rm(gate);
      const replay = await json(await dashboard.api(`/api/ingestions/${runId}/replay`, { method: 'POST', json: { memory: '512m' } }));
      expect(replay.status).toBe(202);
      expect(replay.body).toMatchObject({ runId, replay: 1, reopened: true, batches: [{ batchIndex: 0 }, { batchIndex: 1 }], skipped: [] });

      const done = await runCard(runId, (c) => c.status === 'completed' && c.counters.batchesFailed === 0);
      expect(done.counters).toMatchObject({ batchesIngested: 2, batchesPublished: 2, batchesFailed: 0, published: 20 });
      const run = await harness.reads.findRun(runId);
      expect(run!.convention.hooks[0]!.limits.memory).toBe('512m');
      const events = await harness.reads.listEvents(runId);
      expect(events.filter((e) => e.type === 'IngestRunReplayed')).toHaveLength(1);
      // It completed twice, and consumers hear about both.
      expect(events.filter((e) => e.type === 'IngestCompleted').map((e) => e.eventId)).toEqual([
        `run-completed-${runId}`,
        `run-completed-${runId}-2`,
      ]);

      const again = await json(await dashboard.api(`/api/ingestions/${runId}/replay`, { method: 'POST', json: {} }));
      expect(again.status).toBe(409);
      // The CLI shares the service: it says the same.
      const cli = await replayCommand(harness.config, harness.database.db, { runId });
      expect(cli).toMatchObject({ ok: false, result: { outcome: 'nothing-to-replay' } });
      expect(cli.text).toMatch(/no failed batch that can be replayed/);
    });
  });

  describe('metrics', () => {
    it('counts processed jobs per stage in the stage services and reads queue depth and active runs on scrape', async () => {
      const hookMetrics = await harness.get('hooks', StageMetrics).metrics();
      expect(hookMetrics).toMatch(/osa_jobs_processed_total\{[^}]*stage="hooks"[^}]*\} [1-9]/);
      expect(hookMetrics).toMatch(/osa_jobs_failed_total\{[^}]*kind="[a-z_]+"[^}]*final="true"[^}]*\} [1-9]/);
      expect(hookMetrics).toMatch(/osa_batch_duration_seconds_count\{[^}]*stage="hooks"/);
      const publisherMetrics = await harness.get('publisher', StageMetrics).metrics();
      expect(publisherMetrics).toMatch(/osa_jobs_processed_total\{[^}]*stage="publisher"[^}]*\} [1-9]/);

      const scraped = await fetch(`${dashboard.url}/metrics`);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await scraped.text();
      expect(text).toMatch(/osa_active_runs\{service="dashboard"\} 0/);
      expect(text).toMatch(/osa_queue_jobs\{[^}]*queue="start-ingest"[^}]*state="completed"[^}]*\} [1-9]/);
    });
  });
});
