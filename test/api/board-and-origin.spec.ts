import { createHash } from 'node:crypto';
import { SessionCodec } from '../../apps/dashboard/src/auth/session.js';
import { loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';
import { PipelineHarness } from '../support/pipeline-harness.js';
import { API_TOKEN, basicAuthHeader, BOARD_PASSWORD, BOARD_USER, DashboardApp } from './dashboard-app.js';

const secret = (name: string) => `${name}-secret-0123456789abcdef0123`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const NAMED = { reader: ['runs:read'], ingest: ['runs:read', 'ingestions:write'] } as const;
const UNKNOWN_RUN = '00000000-0000-4000-8000-000000000000';
const ADD_JOB = '/queues/api/queues/start-ingest/add';
const EVIL = 'https://evil.example';
const SESSION_SECRET = 'session-secret-0123456789abcdef0123456789';

/**
 * Bull Board under the dashboard's credentials and scopes, and the same-origin rule for every
 * state-changing request a browser could be made to send (login, logout, session, insecure dev).
 */
describe('Bull Board scopes and cross-site requests', () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;

  beforeAll(async () => {
    harness = await PipelineHarness.start('board-origin', {}, []);
    const env = loadDashboardEnv({
      API_TOKEN,
      SESSION_SECRET,
      API_TOKENS: JSON.stringify(Object.entries(NAMED).map(([name, scopes]) => ({ name, scopes, sha256: sha(secret(name)) }))),
      // The board's former basic auth: still accepted, no longer a way in.
      DASHBOARD_USER: BOARD_USER,
      DASHBOARD_PASSWORD: BOARD_PASSWORD,
    });
    dashboard = await DashboardApp.start(harness.config, env);
  });
  afterAll(async () => {
    await dashboard?.stop();
    await harness?.stop();
  });

  const call = (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) =>
    dashboard.api(path, { redirect: 'manual', ...init, token: init.token ?? null });
  const sameOrigin = () => ({ origin: new URL(dashboard.url).origin });

  async function login(token: string, headers: Record<string, string> = {}): Promise<{ res: Response; cookie?: string }> {
    const res = await call('/login', { method: 'POST', headers, body: new URLSearchParams({ token, next: '/queues' }) });
    const cookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('osa_session='))
      ?.split(';')[0];
    return { res, cookie };
  }
  /** The session's CSRF token, as the pages embed it in their forms. */
  const csrfOf = (cookie: string) => new SessionCodec({ sessionSecret: SESSION_SECRET }).csrfFor(cookie.slice('osa_session='.length));
  const addJob = (headers: Record<string, string>, token?: string) =>
    call(ADD_JOB, { method: 'POST', token, headers, json: { name: 'start-ingest', data: { conventionId: 'nope' }, options: {} } });

  describe('Bull Board', () => {
    it('answers 401 without a credential (a browser is sent to /login), and the old basic auth opens nothing', async () => {
      const api = await call('/queues/api/queues');
      expect(api.status).toBe(401);
      expect(api.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const page = await call('/queues', { headers: { accept: 'text/html' } });
      expect([page.status, page.headers.get('location')]).toEqual([303, '/login?next=%2Fqueues']);
      for (const path of ['/queues', '/queues/api/queues']) {
        expect((await call(path, { headers: { authorization: basicAuthHeader(BOARD_USER, BOARD_PASSWORD) } })).status).toBe(401);
      }
      expect((await addJob({ authorization: basicAuthHeader(BOARD_USER, BOARD_PASSWORD) })).status).toBe(401);
      expect((await call('/queues', { token: 'not-a-token-not-a-token-123' })).status).toBe(401);
    });

    it('lets runs:read view the board but not change a queue (403 naming ingestions:write); ingestions:write adds a job', async () => {
      const view = await call('/queues/api/queues', { token: secret('reader') });
      expect(view.status).toBe(200);
      expect(((await view.json()) as { queues: unknown[] }).queues).toHaveLength(5);
      const denied = await addJob({}, secret('reader'));
      expect(denied.status).toBe(403);
      expect(await denied.text()).toBe('missing scope ingestions:write: "reader" has runs:read');
      for (const method of ['PUT', 'DELETE']) {
        expect((await call('/queues/api/queues/start-ingest/retry/failed', { method, token: secret('reader') })).status).toBe(403);
      }
      expect((await addJob({}, secret('ingest'))).status).toBe(200);
    });

    it('takes the session from /login, and a change by session only from the dashboard itself', async () => {
      const reader = await login(secret('reader'));
      expect((await call('/queues', { headers: { cookie: reader.cookie!, accept: 'text/html' } })).status).toBe(200);
      expect((await addJob({ cookie: reader.cookie!, ...sameOrigin() })).status).toBe(403);

      const { cookie } = await login(secret('ingest'));
      const crossSite = await addJob({ cookie: cookie!, origin: EVIL });
      expect(crossSite.status).toBe(403);
      expect(await crossSite.text()).toMatch(/^cross-site request refused/);
      expect((await addJob({ cookie: cookie!, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      expect((await addJob({ cookie: cookie!, origin: 'null' })).status).toBe(403);
      expect((await addJob({ cookie: cookie!, ...sameOrigin(), 'sec-fetch-site': 'same-origin' })).status).toBe(200);
      expect((await addJob({ cookie: cookie!, ...sameOrigin() })).status).toBe(200);
    });
  });

  describe('login and logout', () => {
    it('refuses a cross-site sign-in or sign-out (403, no cookie), and accepts one from the form', async () => {
      const crossSite: Array<Record<string, string>> = [{ origin: EVIL }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
      for (const headers of crossSite) {
        const { res, cookie } = await login(secret('reader'), headers);
        expect([headers, res.status, cookie]).toEqual([headers, 403, undefined]);
      }
      const ok = await login(secret('reader'), { ...sameOrigin(), 'sec-fetch-site': 'same-origin' });
      expect([ok.res.status, ok.res.headers.get('location')]).toEqual([303, '/queues']);

      const out = await call('/logout', { method: 'POST', headers: { cookie: ok.cookie!, origin: EVIL } });
      expect(out.status).toBe(403);
      expect(out.headers.getSetCookie()).toEqual([]);
      expect((await call('/logout', { method: 'POST', headers: { cookie: ok.cookie!, ...sameOrigin() } })).status).toBe(303);
    });

    it('sends the login page with the pages’ security headers: never framed, its one inline style allowed by hash', async () => {
      const res = await call('/login');
      const html = await res.text();
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("form-action 'self'");
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
      expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    });
  });

  it('refuses a cross-site state change by session even with the right CSRF token', async () => {
    const { cookie } = await login(secret('ingest'));
    const csrf = csrfOf(cookie!);
    const replay = (headers: Record<string, string>) =>
      call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', headers: { cookie: cookie!, 'x-csrf-token': csrf, ...headers }, json: {} });
    expect((await replay({ origin: EVIL })).status).toBe(403);
    expect((await replay({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Past the guard: the run does not exist.
    expect((await replay(sameOrigin())).status).toBe(404);
    // A bearer token is not sent by a browser on its own: no origin rule.
    expect(
      (await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token: secret('ingest'), headers: { origin: EVIL }, json: {} })).status,
    ).toBe(404);
  });

  it('with DASHBOARD_INSECURE_DEV=true and no credential, refuses cross-site state changes, on the API and Bull Board alike', async () => {
    const open = await DashboardApp.start(harness.config, loadDashboardEnv({ DASHBOARD_INSECURE_DEV: 'true' }));
    try {
      const replay = (headers: Record<string, string>) =>
        open.api(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token: null, headers, json: {} });
      expect((await replay({ origin: EVIL })).status).toBe(403);
      expect((await replay({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      expect((await replay({ origin: new URL(open.url).origin })).status).toBe(404);
      // A client that is not a browser (no Origin, no Sec-Fetch-Site) is served, as before.
      expect((await replay({})).status).toBe(404);
      const form = await open.api(`/runs/${UNKNOWN_RUN}/resume`, {
        method: 'POST',
        token: null,
        headers: { origin: EVIL },
        body: new URLSearchParams({ confirm: 'yes' }),
      });
      expect(form.status).toBe(403);

      const board = (headers: Record<string, string>) =>
        open.api(ADD_JOB, { method: 'POST', token: null, headers, json: { name: 'start-ingest', data: {}, options: {} } });
      expect((await board({ origin: EVIL })).status).toBe(403);
      expect((await board({ origin: new URL(open.url).origin })).status).toBe(200);
      expect((await open.api('/queues/api/queues', { token: null })).status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});
