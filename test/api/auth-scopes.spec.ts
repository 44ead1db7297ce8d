import { createHash } from 'node:crypto';
import { Controller, Get, HttpCode, type INestApplication, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PipelineHarness } from '../support/pipeline-harness.js';
import type { HttpRequest } from '../../apps/dashboard/src/auth/http-request.js';
import { Public, RequireScopes } from '../../apps/dashboard/src/auth/require-scopes.decorator.js';
import { csrfToken } from '../../apps/dashboard/src/auth/session.js';
import { DashboardModule } from '../../apps/dashboard/src/dashboard.module.js';
import { loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';
import { API_TOKEN, basicAuthHeader, BOARD_PASSWORD, BOARD_USER, DashboardApp } from './dashboard-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
/** What the probe route answers: who is asking, and the CSRF token of their session. */
interface Probe {
  viewer: string;
  via: string;
  csrf: string;
}

const secret = (name: string) => `${name}-secret-0123456789abcdef0123`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const NAMED = {
  reader: ['runs:read'],
  ingest: ['runs:read', 'ingestions:write'],
  admin: ['runs:read', 'ingestions:write', 'conventions:write'],
} as const;
const ALLOWED = 'registry.example.org/osa/';
const UNKNOWN_RUN = '00000000-0000-4000-8000-000000000000';

/**
 * Routes the way pages are written: one without any auth decorator (must need runs:read), one
 * that changes state, one public. They sit in the real dashboard behind its global guard.
 */
@Controller('probe')
class ProbePageController {
  @Get()
  page(@Req() request: HttpRequest) {
    return { viewer: request.principal!.name, via: request.principal!.via, csrf: csrfToken(request) };
  }

  @Post()
  @HttpCode(200)
  @RequireScopes('ingestions:write')
  act(@Req() request: HttpRequest) {
    return { by: request.principal!.name };
  }

  @Get('open')
  @Public()
  open() {
    return { open: true };
  }
}

describe('scoped credentials on the dashboard', () => {
  let harness: PipelineHarness;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    harness = await PipelineHarness.start('auth', { ALLOWED_IMAGE_PREFIXES: ALLOWED }, []);
    const env = loadDashboardEnv({
      DASHBOARD_USER: BOARD_USER,
      DASHBOARD_PASSWORD: BOARD_PASSWORD,
      API_TOKEN,
      API_TOKENS: JSON.stringify(Object.entries(NAMED).map(([name, scopes]) => ({ name, scopes, sha256: sha(secret(name)) }))),
    });
    @Module({ imports: [DashboardModule.forRoot(harness.config, env)], controllers: [ProbePageController] })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: process.env.DEBUG_PIPELINE ? ['error', 'warn'] : false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await harness?.stop();
  });

  const call = (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) => {
    const { token, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${url}${path}`, { redirect: 'manual', ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  };
  const body = async (res: Response) => ({ status: res.status, body: (await res.json()) as Json });
  const convention = (image: string) => ({
    id: 'auth-conv',
    ingester: { image: `${ALLOWED}ingester:1`, command: ['true'], limits: { timeout_seconds: 60, memory: '256m' } },
    hooks: [{ name: 'flag', image, command: ['true'], limits: { timeout_seconds: 60, memory: '256m' } }],
  });

  describe('bearer tokens', () => {
    it('lets a read-only token read runs and answers 403 naming ingestions:write when it starts or replays', async () => {
      const token = secret('reader');
      expect(await body(await call('/api/ingestions', { token }))).toMatchObject({ status: 200, body: { items: [], total: 0 } });
      expect((await call('/api/conventions', { token })).status).toBe(200);

      const replay = await body(await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token, json: {} }));
      expect(replay.status).toBe(403);
      expect(replay.body.message).toMatch(/^missing scope ingestions:write: "reader" has runs:read$/);
      expect(replay.body.missingScopes).toEqual(['ingestions:write']);
      const start = await body(await call('/api/ingestions', { method: 'POST', token, json: { conventionId: 'auth-conv' } }));
      expect([start.status, start.body.missingScopes]).toEqual([403, ['ingestions:write']]);
    });

    it('lets an ingest token replay, but not change a convention or override an image (403 naming conventions:write)', async () => {
      const token = secret('ingest');
      // Past the guard: the run does not exist.
      expect((await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token, json: { memory: '1g' } })).status).toBe(404);

      const put = await body(await call('/api/conventions/auth-conv', { method: 'PUT', token, json: convention(`${ALLOWED}flag:1`) }));
      expect(put.status).toBe(403);
      expect(put.body.message).toMatch(/missing scope conventions:write/);

      const image = await body(await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token, json: { image: `${ALLOWED}flag:2` } }));
      expect(image.status).toBe(403);
      expect(image.body.message).toMatch(
        /^missing scope conventions:write \(an image override chooses what runs\): "ingest" has runs:read, ingestions:write$/,
      );
    });

    it('lets an admin token (and API_TOKEN, which has every scope) do both, within the image allow-list', async () => {
      for (const token of [secret('admin'), API_TOKEN]) {
        expect(await body(await call('/api/conventions/auth-conv', { method: 'PUT', token, json: convention(`${ALLOWED}flag:1`) }))).toMatchObject({
          status: 200,
          body: { id: 'auth-conv' },
        });
        expect((await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token, json: { image: `${ALLOWED}flag:2` } })).status).toBe(
          404,
        );
      }
    });

    it('answers 400 naming the image and the allowed prefixes for a convention or override outside the allow-list', async () => {
      const token = secret('admin');
      const put = await body(await call('/api/conventions/auth-conv', { method: 'PUT', token, json: convention('docker.io/evil/miner:1') }));
      expect(put.status).toBe(400);
      expect(put.body.issues).toEqual([
        { field: 'hooks.0.image', message: `image "docker.io/evil/miner:1" is not allowed: ALLOWED_IMAGE_PREFIXES allows only "${ALLOWED}"` },
      ]);
      const stored = await body(await call('/api/conventions/auth-conv', { token }));
      expect((stored.body as { hooks: Array<{ image: string }> }).hooks[0]?.image).toBe(`${ALLOWED}flag:1`);

      const replay = await body(
        await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token, json: { image: 'registry.example.org/osa-evil/x:1' } }),
      );
      expect(replay.status).toBe(400);
      expect(replay.body.message).toContain(
        `image: image "registry.example.org/osa-evil/x:1" is not allowed: ALLOWED_IMAGE_PREFIXES allows only "${ALLOWED}"`,
      );
    });

    it('answers 401 to a missing, unknown or hashed token, and needs runs:read on a route that declares no scope', async () => {
      for (const token of [undefined, 'not-a-token-not-a-token-123', sha(secret('admin'))]) {
        const res = await call('/api/ingestions', { token });
        expect([token, res.status]).toEqual([token, 401]);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      }
      expect((await call('/probe', { headers: { accept: 'application/json' } })).status).toBe(401);
      expect(await body(await call('/probe', { token: secret('reader') }))).toMatchObject({
        status: 200,
        body: { viewer: 'reader', via: 'token', csrf: '' },
      });
      expect(await body(await call('/probe/open'))).toEqual({ status: 200, body: { open: true } });
    });
  });

  describe('browser sessions', () => {
    async function login(token: string, next = '/probe'): Promise<{ res: Response; cookie?: string }> {
      const res = await call('/login', { method: 'POST', body: new URLSearchParams({ token, next }) });
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('osa_session='));
      return { res, cookie: setCookie?.split(';')[0] };
    }

    it('sends a browser without a session to the login form and back to the page after it', async () => {
      const page = await call('/probe?x=1', { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/probe?x=1')}`);

      const form = await call('/login?next=%2Fprobe%3Fx%3D1');
      expect(form.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await form.text();
      expect(html).toContain('<form method="post" action="/login">');
      expect(html).toContain('name="next" value="/probe?x=1"');
      expect(html).not.toContain('<script');

      const { res, cookie } = await login(secret('ingest'), '/probe?x=1');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/probe?x=1');
      const attributes = res.headers.getSetCookie()[0]!.split(/;\s*/);
      expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=28800']));

      const viewed = await body(await call('/probe', { headers: { cookie: cookie!, accept: 'text/html' } }));
      expect(viewed).toMatchObject({ status: 200, body: { viewer: 'ingest', via: 'session' } });
      expect(viewed.body.csrf).toMatch(/^[\w-]{43}$/);
      // The API reads the same session.
      expect((await call('/api/ingestions', { headers: { cookie: cookie! } })).status).toBe(200);
      // A browser that still resends a basic-auth header (Bull Board once asked for one): the session still counts.
      const withBasic = { cookie: cookie!, authorization: basicAuthHeader(BOARD_USER, BOARD_PASSWORD) };
      expect((await call('/probe', { headers: withBasic })).status).toBe(200);
    });

    it('refuses a state-changing request by session without the CSRF token (403), and takes it as a form field or header', async () => {
      const { cookie } = await login(secret('ingest'));
      const { csrf } = (await body(await call('/probe', { headers: { cookie: cookie! } }))).body as Probe;

      const bare = await body(await call('/probe', { method: 'POST', headers: { cookie: cookie! }, body: new URLSearchParams({ go: '1' }) }));
      expect(bare.status).toBe(403);
      expect(bare.body.message).toMatch(/CSRF/);
      const forged = await call('/probe', {
        method: 'POST',
        headers: { cookie: cookie! },
        body: new URLSearchParams({ csrf: `${csrf.slice(0, -2)}AA` }),
      });
      expect(forged.status).toBe(403);

      const form = await body(await call('/probe', { method: 'POST', headers: { cookie: cookie! }, body: new URLSearchParams({ csrf }) }));
      expect(form).toEqual({ status: 200, body: { by: 'ingest' } });
      const header = await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, {
        method: 'POST',
        headers: { cookie: cookie!, 'x-csrf-token': csrf },
        json: {},
      });
      expect(header.status).toBe(404);
      expect((await call(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', headers: { cookie: cookie! }, json: {} })).status).toBe(403);

      // Another session's token does not fit this one.
      const other = await login(secret('admin'));
      const otherCsrf = ((await body(await call('/probe', { headers: { cookie: other.cookie! } }))).body as Probe).csrf;
      expect((await call('/probe', { method: 'POST', headers: { cookie: cookie! }, body: new URLSearchParams({ csrf: otherCsrf }) })).status).toBe(
        403,
      );
    });

    it('keeps the scopes of the token a session was made from', async () => {
      const { cookie } = await login(secret('reader'));
      const { csrf } = (await body(await call('/probe', { headers: { cookie: cookie! } }))).body as Probe;
      const act = await body(await call('/probe', { method: 'POST', headers: { cookie: cookie! }, body: new URLSearchParams({ csrf }) }));
      expect([act.status, act.body.missingScopes]).toEqual([403, ['ingestions:write']]);
    });

    it('rejects a wrong token at the form, never redirects off the site, and ends the session on logout', async () => {
      const wrong = await login('not-a-token-not-a-token-123');
      expect(wrong.res.status).toBe(401);
      expect(wrong.cookie).toBeUndefined();
      expect(await wrong.res.text()).toContain('That token is not accepted.');

      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
        const { res } = await login(secret('reader'), next);
        expect([next, res.headers.get('location')]).toEqual([next, '/']);
      }
      expect(await (await call('/login?next=%2F%2Fevil.example')).text()).toContain('name="next" value="/"');

      const { cookie } = await login(secret('reader'));
      const out = await call('/logout', { method: 'POST', headers: { cookie: cookie! } });
      expect(out.status).toBe(303);
      expect(out.headers.getSetCookie()[0]).toMatch(/^osa_session=; .*Max-Age=0/);
    });

    it('serves the run pages to a session, and their replay form checks the image override like the API', async () => {
      expect((await call('/runs', { headers: { accept: 'text/html' } })).headers.get('location')).toBe('/login?next=%2Fruns');
      const admin = await login(secret('admin'), '/runs');
      const page = await call('/runs', { headers: { cookie: admin.cookie!, accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);

      const replay = async (cookie: string, image: string) => {
        const { csrf } = (await body(await call('/probe', { headers: { cookie } }))).body as Probe;
        const form = new URLSearchParams({ image, confirm: 'yes', csrf });
        return call(`/runs/${UNKNOWN_RUN}/replay`, { method: 'POST', headers: { cookie, accept: 'text/html' }, body: form });
      };
      const outside = await replay(admin.cookie!, 'docker.io/evil/miner:1');
      expect(outside.status).toBe(400);
      expect(await outside.text()).toContain(`image &quot;docker.io/evil/miner:1&quot; is not allowed`);
      const ingest = await login(secret('ingest'));
      const denied = await replay(ingest.cookie!, `${ALLOWED}flag:2`);
      expect(denied.status).toBe(403);
      expect(await denied.text()).toContain('missing scope conventions:write');
    });

    it('ignores a forged or tampered session cookie', async () => {
      const { cookie } = await login(secret('reader'));
      const [name, value] = cookie!.split('=') as [string, string];
      const [payload, mac] = value.split('.') as [string, string];
      const widened = Buffer.from(JSON.stringify({ name: 'reader', scopes: ['runs:read', 'conventions:write'], exp: 4_102_444_800 })).toString(
        'base64url',
      );
      for (const forged of [`${name}=${widened}.${mac}`, `${name}=${payload}.${mac.slice(1)}`, `${name}=garbage`]) {
        expect((await call('/api/ingestions', { headers: { cookie: forged } })).status).toBe(401);
      }
    });
  });

  it('with DASHBOARD_INSECURE_DEV=true and no API credential, serves every route without one, with every scope', async () => {
    const open = await DashboardApp.start(harness.config, loadDashboardEnv({ DASHBOARD_INSECURE_DEV: 'true' }));
    try {
      expect((await open.api('/api/ingestions', { token: null })).status).toBe(200);
      const put = await open.api('/api/conventions/auth-conv', { method: 'PUT', token: null, json: convention(`${ALLOWED}flag:1`) });
      expect(put.status).toBe(200);
    } finally {
      await open.stop();
    }
    // A credential that is set is still enforced, even in development mode.
    const guarded = await DashboardApp.start(harness.config, loadDashboardEnv({ DASHBOARD_INSECURE_DEV: 'true', API_TOKEN }));
    try {
      expect((await guarded.api('/api/ingestions', { token: null })).status).toBe(401);
    } finally {
      await guarded.stop();
    }
  });

  it('puts Bull Board behind the same credentials: a session or bearer token opens it, the former basic auth does not', async () => {
    const { cookie } = await (async () => {
      const res = await call('/login', { method: 'POST', body: new URLSearchParams({ token: API_TOKEN }) });
      return { cookie: res.headers.getSetCookie()[0]!.split(';')[0]! };
    })();
    expect((await call('/queues', { headers: { cookie } })).status).toBe(200);
    expect((await call('/queues', { token: secret('reader') })).status).toBe(200);
    expect((await call('/queues', { headers: { authorization: basicAuthHeader(BOARD_USER, BOARD_PASSWORD) } })).status).toBe(401);
    expect((await call('/health/live')).status).toBe(200);
    expect((await call('/metrics')).status).toBe(200);
    expect((await call('/api/openapi.json')).status).toBe(200);
  });
});
