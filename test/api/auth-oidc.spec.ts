import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { PipelineHarness } from '../support/pipeline-harness.js';
import { loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';
import { BOARD_PASSWORD, BOARD_USER, DashboardApp } from './dashboard-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const AUDIENCE = 'osa-ingest-api';
const UNKNOWN_RUN = '00000000-0000-4000-8000-000000000000';

/** An OIDC issuer on a local port: discovery document and JWKS over real HTTP, requests counted. */
class LocalIssuer {
  readonly requests: string[] = [];
  keys: JWK[] = [];
  /** Without discovery the key set is only at the conventional path. */
  discovery = true;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<LocalIssuer> {
    const server = http.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const issuer = new LocalIssuer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => issuer.answer(req, res));
    return issuer;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests.push(req.url ?? '');
    const send = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (this.discovery && req.url === '/.well-known/openid-configuration') return send({ issuer: this.url, jwks_uri: `${this.url}/keys` });
    if (req.url === (this.discovery ? '/keys' : '/.well-known/jwks.json')) return send({ keys: this.keys });
    res.statusCode = 404;
    res.end();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

describe('OIDC JWT bearer tokens', () => {
  let issuer: LocalIssuer;
  let harness: PipelineHarness;
  let dashboard: DashboardApp;
  let signing: Awaited<ReturnType<typeof keyPair>>;

  beforeAll(async () => {
    issuer = await LocalIssuer.start();
    signing = await keyPair('key-1');
    issuer.keys = [signing.jwk];
    harness = await PipelineHarness.start('auth-oidc', {}, []);
    dashboard = await DashboardApp.start(
      harness.config,
      loadDashboardEnv({ DASHBOARD_USER: BOARD_USER, DASHBOARD_PASSWORD: BOARD_PASSWORD, OIDC_ISSUER: issuer.url, OIDC_AUDIENCE: AUDIENCE }),
    );
  });
  afterAll(async () => {
    await dashboard?.stop();
    await harness?.stop();
    await issuer?.stop();
  });

  /** A token as the issuer would mint it; every field can be spoiled for one case. */
  function jwt(
    claims: JWTPayload = {},
    options: { key?: PrivateKey; kid?: string; issuer?: string; audience?: string; expiresIn?: string | number } = {},
  ): Promise<string> {
    return new SignJWT({ scope: 'runs:read', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? signing.kid })
      .setSubject('ci-pipeline')
      .setIssuer(options.issuer ?? issuer.url)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(options.key ?? signing.privateKey);
  }
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Json });

  it('accepts a valid token with the scopes of its scope claim, finding the keys through discovery', async () => {
    const read = await json(await dashboard.api('/api/ingestions', { token: await jwt() }));
    expect(read).toMatchObject({ status: 200, body: { items: [] } });
    expect(issuer.requests.slice(0, 2)).toEqual(['/.well-known/openid-configuration', '/keys']);

    const writer = await jwt({ scope: 'openid runs:read ingestions:write' });
    expect((await dashboard.api(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token: writer, json: {} })).status).toBe(404);
    // Keys are cached: one discovery and one key-set fetch served both tokens.
    expect(issuer.requests).toEqual(['/.well-known/openid-configuration', '/keys']);
  });

  it('answers 403 naming the scope a valid token lacks', async () => {
    const res = await json(await dashboard.api(`/api/ingestions/${UNKNOWN_RUN}/replay`, { method: 'POST', token: await jwt(), json: {} }));
    expect(res.status).toBe(403);
    expect(res.body.message).toBe('missing scope ingestions:write: "ci-pipeline" has runs:read');
    const none = await json(await dashboard.api('/api/ingestions', { token: await jwt({ scope: 'openid profile' }) }));
    expect([none.status, none.body.message]).toEqual([403, 'missing scope runs:read: "ci-pipeline" has no scope']);
  });

  it('rejects (401) a wrong audience, a wrong issuer, an expired token, a bad signature and an unknown key id', async () => {
    const stranger = await keyPair('key-1');
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['wrong audience', jwt({}, { audience: 'another-api' }), /"aud" claim/],
      ['wrong issuer', jwt({}, { issuer: 'https://id.example.org' }), /"iss" claim/],
      ['expired', jwt({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }), /"exp" claim/],
      ['bad signature', jwt({}, { key: stranger.privateKey }), /signature verification failed/],
      ['unknown kid', jwt({}, { kid: 'key-9' }), /no applicable key found in the JSON Web Key Set/],
    ];
    for (const [what, token, reason] of cases) {
      const res = await json(await dashboard.api('/api/ingestions', { token: await token }));
      expect([what, res.status]).toEqual([what, 401]);
      expect([what, res.body.message]).toEqual([what, expect.stringMatching(reason)]);
    }
    const tampered = (await jwt({ scope: 'runs:read' })).split('.');
    tampered[1] = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(tampered[1]!, 'base64url').toString()), scope: 'conventions:write' }),
    ).toString('base64url');
    expect((await dashboard.api('/api/conventions', { token: tampered.join('.') })).status).toBe(401);
  });

  it('takes the scope claim as an array too', async () => {
    const token = await jwt({ scope: ['runs:read', 'conventions:write'] });
    const res = await json(await dashboard.api('/api/conventions/by-jwt', { method: 'PUT', token, json: { id: 'by-jwt' } }));
    expect(res).toMatchObject({ status: 200, body: { id: 'by-jwt', created: true } });
  });

  it('signs a browser in with a JWT, for no longer than the token lives', async () => {
    const token = await jwt({}, { expiresIn: '90s' });
    const res = await fetch(`${dashboard.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ token, next: '/api/ingestions' }),
    });
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie()[0]!;
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)![1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(90);
    expect((await dashboard.api('/api/ingestions', { token: null, headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);

    const expired = await fetch(`${dashboard.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: await jwt({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }) }),
    });
    expect(expired.status).toBe(401);
    expect(await expired.text()).toMatch(/Sign-in failed: JWT rejected: &quot;exp&quot; claim/);
  });

  it('falls back to /.well-known/jwks.json when the issuer has no discovery document', async () => {
    const bare = await LocalIssuer.start();
    bare.discovery = false;
    bare.keys = [signing.jwk];
    const app = await DashboardApp.start(
      harness.config,
      loadDashboardEnv({ DASHBOARD_USER: BOARD_USER, DASHBOARD_PASSWORD: BOARD_PASSWORD, OIDC_ISSUER: bare.url, OIDC_AUDIENCE: AUDIENCE }),
    );
    try {
      expect((await app.api('/api/ingestions', { token: await jwt({}, { issuer: bare.url }) })).status).toBe(200);
      expect(bare.requests).toEqual(['/.well-known/openid-configuration', '/.well-known/jwks.json']);
    } finally {
      await app.stop();
      await bare.stop();
    }
  });

  it('answers 503 while the issuer cannot be reached, and a static-looking token is never sent to it', async () => {
    const unreachable = await DashboardApp.start(
      harness.config,
      loadDashboardEnv({
        DASHBOARD_USER: BOARD_USER,
        DASHBOARD_PASSWORD: BOARD_PASSWORD,
        OIDC_ISSUER: 'http://127.0.0.1:9',
        OIDC_AUDIENCE: AUDIENCE,
      }),
    );
    try {
      const res = await json(await unreachable.api('/api/ingestions', { token: await jwt() }));
      expect(res.status).toBe(503);
      expect(res.body.message).toMatch(/OIDC discovery document of http:\/\/127\.0\.0\.1:9 could not be read/);
      expect((await unreachable.api('/api/ingestions', { token: 'plain-static-token-0123456789' })).status).toBe(401);
    } finally {
      await unreachable.stop();
    }
  });
});
