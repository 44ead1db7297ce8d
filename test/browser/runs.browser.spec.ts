import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { RunReadModel } from '#osa/persistence';
import { waitFor } from '#osa/testing';
import { loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';
import { sha256 } from '../../apps/dashboard/src/credentials.js';
import { API_TOKEN, DashboardApp } from '../api/dashboard-app.js';
import { PipelineHarness } from '../support/pipeline-harness.js';
import { launchChromium } from './support/chromium.js';

/**
 * The run pages (/runs) in Debian's Chromium through playwright-core, against real Redis,
 * Postgres and the three stage services: sign-in, the runs list, a live run's growing timeline,
 * a failed batch's logs, a confirmed replay, a read-only token refused, axe-core's checks.
 * Screenshots are kept in test-output/screenshots/runs (gitignored) and their paths printed.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const SHOTS = path.join(REPO, 'test-output/screenshots/runs');
const READER_TOKEN = 'reader-token-0123456789abcdef0123';
const RUNNER_TOKEN = 'runner-token-0123456789abcdef0123';
const DESKTOP = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

/** The fields of the run card (GET /api/ingestions/:id) these tests wait on. */
interface Card {
  status: string;
  counters: { batchesIngested: number; batchesFailed: number; published: number };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

describe('run pages in a browser', () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;
  let browser: Browser;
  let axeSource: string;
  let workDir: string;
  const contexts: BrowserContext[] = [];
  const shots: string[] = [];
  const axeResults: string[] = [];

  async function signedIn(token: string, viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({ viewport });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${dashboard.url}/runs`);
    // Not signed in: the page sends the browser to the login form and back after it.
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=token]', token);
    await Promise.all([page.waitForURL((u) => u.pathname === '/runs'), page.press('input[name=token]', 'Enter')]);
    return page;
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    for (const [label, viewport] of [
      ['desktop', DESKTOP],
      ['narrow', NARROW],
    ] as const) {
      await page.setViewportSize(viewport);
      const file = path.join(SHOTS, `${name}-${label}.png`);
      await page.screenshot({ path: file, fullPage: true });
      expect((await stat(file)).size).toBeGreaterThan(5_000);
      shots.push(path.relative(REPO, file));
    }
    await page.setViewportSize(DESKTOP);
  }

  /** axe-core's WCAG checks on the page as shown; evaluate is not subject to the page's CSP. */
  async function expectAccessible(page: Page, name: string): Promise<void> {
    await page.evaluate(`${axeSource}\n;0`);
    const violations = await page.evaluate<AxeViolation[]>(
      `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target })) })))`,
    );
    const severe = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    axeResults.push(
      `${name}: ${violations.length} violations (${severe.length} serious/critical)${violations.map((v) => ` ${v.id}[${v.impact}]`).join('')}`,
    );
    expect(severe).toEqual([]);
  }

  const rowCount = (page: Page) => page.locator('#timeline .tl-row').count();

  async function startRun(conventionId: string): Promise<string> {
    const res = await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId } });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    return waitFor(`start job ${jobId} to create its run`, async () => {
      const body = (await (await dashboard.api(`/api/start-jobs/${jobId}`)).json()) as { runId?: string; state: string };
      if (body.state === 'failed') throw new Error(`start of ${conventionId} refused`);
      return body.runId ?? undefined;
    });
  }

  async function runCard(runId: string, until: (card: Card) => boolean) {
    return waitFor(
      `run ${runId}`,
      async () => {
        const card = (await (await dashboard.api(`/api/ingestions/${runId}`)).json()) as Card;
        return until(card) ? card : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  beforeAll(async () => {
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await mkdir(SHOTS, { recursive: true });
    workDir = await mkdtemp(path.join(os.tmpdir(), 'osa-runs-browser-'));
    // A run whose every batch fails trips the failure breaker after a few batches (the resume case).
    harness = await PipelineHarness.start('runs-browser', { BREAKER_FAILURE_RATIO: '0.5', BREAKER_MIN_BATCHES: '2', BREAKER_PAUSE_MS: '600000' });
    const env = loadDashboardEnv({
      API_TOKEN,
      API_TOKENS: JSON.stringify([
        { name: 'reader', scopes: ['runs:read'], sha256: sha256(READER_TOKEN).toString('hex') },
        { name: 'runner', scopes: ['runs:read', 'ingestions:write'], sha256: sha256(RUNNER_TOKEN).toString('hex') },
      ]),
    });
    dashboard = await DashboardApp.start(harness.config, env);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await dashboard?.stop();
    await harness?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
    if (shots.length) console.log(`run page screenshots:\n  ${shots.join('\n  ')}`);
    if (axeResults.length) console.log(`axe-core:\n  ${axeResults.join('\n  ')}`);
  });

  it('a live run: the page refreshes its timeline and counters while batches arrive, without a reload', async () => {
    const hold = path.join(workDir, 'hold');
    await writeFile(hold, '');
    await harness.applyConvention({
      id: 'live-geo',
      ingester: {
        command: ['node', path.join(HERE, 'fixtures/held-ingester.mjs')],
        config: { total: 40, page_size: 10, hold, reject_every: 7 },
        limits: { timeout_seconds: 60, memory: '512m' },
      },
      hooks: [{ name: 'flag', command: ['node', path.join(REPO, 'test/fixtures/flag-hook.mjs')], limits: { timeout_seconds: 60, memory: '256m' } }],
    });
    const runId = await startRun('live-geo');
    await runCard(runId, (c) => c.counters.batchesIngested >= 1);

    const page = await signedIn(API_TOKEN);
    const loaded = await page.goto(`${dashboard.url}/runs/${runId}`);
    expect(loaded?.status()).toBe(200);
    expect(loaded?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.evaluate("window.marker = 'same document'");
    const before = await rowCount(page);
    expect(before).toBe(1);
    await page
      .locator('#live-state')
      .filter({ hasText: /^Live:/ })
      .waitFor();
    await screenshot(page, 'run-page-live');

    await rm(hold);
    // The live script polls /runs/:id/live and swaps the fragments in: the rows grow in place.
    await waitFor('the timeline to show every batch', async () => ((await rowCount(page)) >= 4 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(await page.evaluate('window.marker')).toBe('same document');
    await runCard(runId, (c) => c.status === 'completed');
    await page.locator('#live-state').filter({ hasText: 'Run finished' }).waitFor({ timeout: 15_000 });
    expect(await rowCount(page)).toBe(4);
    const counters = await page.locator('#live-counters').innerText();
    expect(counters).toMatch(/Records sourced\s+40/);
    expect(await page.locator('a[href="/api/ingestions/' + runId + '"]').count()).toBe(1);
    expect(await page.locator('#hook-counts tbody tr').innerText()).toMatch(/^flag\s+34\s+6\s+0\s+0\s+0$/);
    // One hook container per batch, none killed for memory.
    expect(await page.locator('#memory tbody tr').innerText()).toMatch(/^flag\s+256m\s+4\s+0\s+0\s+0$/);

    await page.reload();
    await screenshot(page, 'run-page-completed');
    await expectAccessible(page, 'run page');
  });

  it("a failed batch's logs, then a replay after its confirmation page", async () => {
    // The hook prints the gate's path to its log: markup in it must reach the page as text.
    const gate = path.join(workDir, 'gate-<img src=x id=injected>');
    await writeFile(gate, '');
    await harness.applyConvention({
      id: 'gated-geo',
      ingester: {
        command: ['node', path.join(REPO, 'test/fixtures/counting-ingester.mjs')],
        config: { total: 20, page_size: 10 },
        limits: { timeout_seconds: 60, memory: '512m' },
      },
      hooks: [
        {
          name: 'gated',
          command: ['node', path.join(REPO, 'test/api/fixtures/gated-hook.mjs')],
          config: { gate },
          limits: { timeout_seconds: 60, memory: '256m' },
        },
      ],
    });
    const runId = await startRun('gated-geo');
    await runCard(runId, (c) => c.status === 'completed' && c.counters.batchesFailed === 2);

    const page = await signedIn(API_TOKEN);
    await page.goto(`${dashboard.url}/runs/${runId}`);
    const failed = page.locator('#failed-0');
    await failed.locator('summary').click();
    await expect(failed.locator('pre.logs').innerText()).resolves.toMatch(/gate .*gate-<img src=x id=injected> is closed/);
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.locator('#timeline .tl-row[data-state="failed"]').count()).toBe(2);
    await screenshot(page, 'run-page-failed');
    await expectAccessible(page, 'run page with failed batches');

    await rm(gate);
    await page.locator('#replay summary').click();
    await page.fill('#replay input[name=memory]', '384m');
    await Promise.all([page.waitForURL((u) => u.pathname === `/runs/${runId}/replay`), page.click('#replay button[type=submit]')]);
    // Nothing happened yet: the confirmation page lists what will run again.
    expect(await page.locator('#replay-batches li').allInnerTexts()).toEqual([
      expect.stringMatching(/^Batch 0: hooks/),
      expect.stringMatching(/^Batch 1: hooks/),
    ]);
    expect((await runCard(runId, () => true)).counters.batchesFailed).toBe(2);
    await screenshot(page, 'replay-confirm');

    const [posted] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#confirm-replay')]);
    expect(posted.status()).toBe(202);
    await expect(page.locator('#replay-done').innerText()).resolves.toMatch(/Requeued 2 batches: 0 \(ingest-batch-ready\), 1 \(ingest-batch-ready\)/);
    const done = await runCard(runId, (c) => c.status === 'completed' && c.counters.batchesFailed === 0);
    expect(done.counters.published).toBe(20);
    const run = await new RunReadModel(harness.database.db).findRun(runId);
    expect(run!.convention.hooks[0]!.limits.memory).toBe('384m');
  });

  it('the runs list: both runs with their progress, filters, paging and clear 400s', async () => {
    const page = await signedIn(API_TOKEN);
    const rows = page.locator('#runs tbody tr[data-run]');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().innerText()).toMatch(/gated-geo/);
    expect(await page.locator('#runs svg.progress').first().getAttribute('aria-label')).toMatch(
      /^published 20, rejected 0, errored 0, invalid 0 of 20 sourced$/,
    );

    await page.selectOption('select[name=status]', 'completed');
    await page.fill('input[name=convention]', 'live-geo');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('convention') === 'live-geo'), page.click('form.filters button')]);
    expect(await rows.count()).toBe(1);
    expect(await page.locator('.json-link a').getAttribute('href')).toBe('/api/ingestions?convention=live-geo&status=completed&limit=25&offset=0');

    await page.goto(`${dashboard.url}/runs`);
    await screenshot(page, 'runs-list');
    await expectAccessible(page, 'runs list');

    for (const [query, field] of [
      ['status=finished', 'status'],
      ['page=0', 'page'],
      ['page=99999999', 'page'],
      ['convention=Bad%20Id', 'convention'],
    ]) {
      const bad = await page.goto(`${dashboard.url}/runs?${query}`);
      expect(bad?.status()).toBe(400);
      expect(await page.locator('#error-message').innerText()).toContain(`${field}:`);
    }
    expect((await page.goto(`${dashboard.url}/runs/not-a-uuid`))?.status()).toBe(400);
    expect((await page.goto(`${dashboard.url}/runs/00000000-0000-4000-8000-000000000000`))?.status()).toBe(404);
  });

  it('a read-only token sees runs but cannot replay, neither from the page nor by posting the form', async () => {
    const page = await signedIn(READER_TOKEN);
    const link = page.locator('#runs tbody tr[data-run] a').first();
    await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/runs/')), link.click()]);
    const runId = new URL(page.url()).pathname.split('/')[2]!;
    await page.locator('#read-only').waitFor();
    expect(await page.locator('#replay').count()).toBe(0);

    const confirm = await page.goto(`${dashboard.url}/runs/${runId}/replay`);
    expect(confirm?.status()).toBe(403);
    expect(await page.locator('#error-message').innerText()).toMatch(/missing scope ingestions:write/);
    // Posting the form anyway is refused: by session (no CSRF token is ever rendered for it) and by bearer token (scope).
    const bySession = await page.request.post(`${dashboard.url}/runs/${runId}/replay`, { form: { confirm: 'yes' }, maxRedirects: 0 });
    expect(bySession.status()).toBe(403);
    const byToken = await page.request.post(`${dashboard.url}/runs/${runId}/replay`, {
      form: { confirm: 'yes' },
      headers: { authorization: `Bearer ${READER_TOKEN}`, cookie: '' },
      maxRedirects: 0,
    });
    expect(byToken.status()).toBe(403);
    expect(await byToken.text()).toMatch(/missing scope ingestions:write/);
    const before = await runCard(runId, () => true);
    expect(before.counters.batchesFailed).toBe(0);
  });

  it('an image override needs conventions:write: a token that may replay is refused one', async () => {
    const page = await signedIn(RUNNER_TOKEN);
    const runId = await page.locator('#runs tbody tr[data-run]').first().getAttribute('data-run');
    await page.goto(`${dashboard.url}/runs/${runId}`);
    expect(await page.locator('#read-only').count()).toBe(0);
    const refused = await page.goto(`${dashboard.url}/runs/${runId}/replay?image=${encodeURIComponent('registry.example/evil:1')}`);
    expect(refused?.status()).toBe(403);
    expect(await page.locator('#error-message').innerText()).toMatch(/missing scope conventions:write/);
    const bad = await page.goto(`${dashboard.url}/runs/${runId}/replay?batches=${encodeURIComponent('1; drop')}`);
    expect(bad?.status()).toBe(400);
    expect(await page.locator('#error-message').innerText()).toMatch(/batches: must be batch numbers separated by commas/);
  });

  it('resumes a run the failure breaker paused, after its confirmation page', async () => {
    await harness.applyConvention({
      id: 'paused-geo',
      ingester: {
        command: ['node', path.join(REPO, 'test/fixtures/counting-ingester.mjs')],
        config: { total: 400, page_size: 10 },
        limits: { timeout_seconds: 60, memory: '512m' },
      },
      hooks: [
        {
          name: 'broken',
          command: ['node', path.join(REPO, 'test/fixtures/flag-hook.mjs')],
          config: { exit_code: 5 },
          limits: { timeout_seconds: 60, memory: '256m' },
        },
      ],
    });
    const runId = await startRun('paused-geo');
    const reads = new RunReadModel(harness.database.db);
    const paused = await waitFor(
      'the failure breaker to pause the run',
      async () => {
        const run = await reads.findRun(runId);
        return run?.pausedUntil ? run : undefined;
      },
      { timeoutMs: 60_000 },
    );

    const page = await signedIn(API_TOKEN);
    await page.goto(`${dashboard.url}/runs/${runId}`);
    expect(await page.locator('#stages').innerText()).toMatch(/paused by the failure breaker/);
    await screenshot(page, 'run-page-paused');
    await expectAccessible(page, 'paused run page');
    await Promise.all([page.waitForURL((u) => u.pathname === `/runs/${runId}/resume`), page.click('#resume-link')]);
    expect(await page.locator('main').innerText()).toMatch(/The failure breaker paused run/);
    const [posted] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('#confirm-resume')]);
    expect(posted.status()).toBe(200);
    // The breaker now judges only the batches after the resume: its baseline moved to them.
    const resumed = await reads.findRun(runId);
    expect(resumed!.breakerBaselineIngested).toBeGreaterThanOrEqual(paused.batchesIngested);
    expect(resumed!.breakerBaselineIngested).toBeGreaterThan(0);
  });
});
