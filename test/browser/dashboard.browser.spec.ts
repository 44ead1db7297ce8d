import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ALL_QUEUES } from '#osa/queues';
import { PipelineHarness } from '../support/pipeline-harness.js';
import { API_TOKEN, BOARD_PASSWORD, BOARD_USER, DashboardApp } from '../api/dashboard-app.js';
import { launchChromium } from './support/chromium.js';

/**
 * Bull Board and the HTTP API in a real headless Chromium, behind the dashboard's login. No browser is
 * downloaded: this uses Debian's `chromium` package (.ci/run installs it) through playwright-core,
 * and fails — never skips — when it is missing.
 */
const QUEUE_NAMES = ['start-ingest', 'ingest-next-batch', 'ingest-batch-ready', 'ingest-hooks-completed', 'ingest-events'];

describe('dashboard in a browser', () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;
  let browser: Browser;
  let shots: string;
  const contexts: BrowserContext[] = [];

  /** A fresh browser context (its own cookies and credential cache). */
  async function context(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const created = await browser.newContext(options);
    created.setDefaultTimeout(15_000);
    contexts.push(created);
    return created;
  }

  /** The JSON text Chromium's viewer shows (the raw document sits in `body > pre`). */
  async function shownJson(page: Page): Promise<string> {
    const pre = page.locator('body > pre');
    await pre.waitFor({ state: 'visible' });
    return pre.innerText();
  }

  beforeAll(async () => {
    shots = await mkdtemp(path.join(os.tmpdir(), 'osa-browser-'));
    // No stage services: the board only needs the queues to exist, the API only the database.
    harness = await PipelineHarness.start('browser', {}, []);
    dashboard = await DashboardApp.start(harness.config);
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await dashboard?.stop();
    await harness?.stop();
    if (shots && !process.env.KEEP_BROWSER_SHOTS) await rm(shots, { recursive: true, force: true });
  });

  it('the five pipeline queues are the ones the board should list', () => {
    expect([...ALL_QUEUES].sort()).toEqual([...QUEUE_NAMES].sort());
  });

  describe('Bull Board at /queues', () => {
    it('sends a browser without a session to /login; the former basic-auth password opens nothing', async () => {
      for (const options of [{}, { httpCredentials: { username: BOARD_USER, password: BOARD_PASSWORD } }]) {
        const page = await (await context(options)).newPage();
        const response = await page.goto(`${dashboard.url}/queues`);
        expect(response?.status()).toBe(200);
        expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/login?next=%2Fqueues');
        await page.getByLabel('API token').waitFor({ state: 'visible' });
        expect(await page.getByText('start-ingest').count()).toBe(0);
      }
    });

    it('renders the board with every queue after signing in at /login, and takes a change from its own page', async () => {
      const page = await (await context({ viewport: { width: 1280, height: 900 } })).newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${dashboard.url}/queues`);
      await page.getByLabel('API token').fill(API_TOKEN);
      const queueApi = page.waitForResponse((res) => new URL(res.url()).pathname === '/queues/api/queues');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${dashboard.url}/queues`);
      // The board's own JSON call from the page is authenticated by the session cookie.
      expect((await queueApi).status()).toBe(200);

      for (const name of QUEUE_NAMES) {
        await page.getByText(name, { exact: true }).first().waitFor({ state: 'visible' });
      }
      await page.getByText('osa-ingest', { exact: true }).first().waitFor({ state: 'visible' });
      const shot = path.join(shots, 'bull-board.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(10_000);

      // What the board's UI sends to change a queue (fetch from its own page, no CSRF token):
      // the browser's Origin / Sec-Fetch-Site mark it same-origin, so the session may add a job.
      const added = await page.evaluate(async () => {
        const res = await fetch('/queues/api/queues/start-ingest/add', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'start-ingest', data: { conventionId: 'browser-probe' }, options: {} }),
        });
        return res.status;
      });
      expect(added).toBe(200);
      expect(errors).toEqual([]);
      if (process.env.KEEP_BROWSER_SHOTS) console.log(`screenshot: ${shot}`);
    });
  });

  describe('HTTP API pages', () => {
    it('shows the public OpenAPI document', async () => {
      const page = await (await context()).newPage();
      const response = await page.goto(`${dashboard.url}/api/openapi.json`);
      expect(response?.status()).toBe(200);
      const doc = JSON.parse(await shownJson(page)) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toMatch(/^3\.1/);
      expect(Object.keys(doc.paths)).toContain('/api/ingestions');
    });

    it('answers 401 to /api/ingestions without the bearer token and shows the JSON list with it', async () => {
      const anonymous = await (await context()).newPage();
      expect((await anonymous.goto(`${dashboard.url}/api/ingestions`))?.status()).toBe(401);

      const page = await (
        await context({ extraHTTPHeaders: { Authorization: `Bearer ${API_TOKEN}` }, viewport: { width: 1000, height: 400 } })
      ).newPage();
      const response = await page.goto(`${dashboard.url}/api/ingestions`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-type']).toMatch(/^application\/json/);
      const body = JSON.parse(await shownJson(page)) as { items: unknown[]; total: number };
      expect(body).toMatchObject({ items: [], total: 0 });
      await page.screenshot({ path: path.join(shots, 'api-ingestions.png') });
    });
  });
});
