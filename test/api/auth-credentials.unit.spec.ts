import { createHash } from 'node:crypto';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { loadConfig } from '#osa/config';
import { conventionImageProblems, ErrorKind, imageAllowed, PermanentError } from '#osa/domain';
import { type KubernetesApis, KubernetesJobRunner, parseKubernetesRunnerConfig } from '#osa/runners-kubernetes';
import { safeNextPath } from '../../apps/dashboard/src/auth/http-request.js';
import { SessionCodec } from '../../apps/dashboard/src/auth/session.js';
import { StaticTokens } from '../../apps/dashboard/src/auth/static-tokens.js';
import { DashboardConfigError, loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const board = { DASHBOARD_USER: 'operator', DASHBOARD_PASSWORD: 'correct horse battery' };
const tokens = (entries: unknown) => ({ ...board, API_TOKENS: JSON.stringify(entries) });

describe('API_TOKENS', () => {
  it('accepts named tokens stored as SHA-256, without API_TOKEN', () => {
    const env = loadDashboardEnv(
      tokens([
        { name: 'ci', scopes: ['ingestions:write', 'runs:read'], sha256: sha('ci-secret') },
        { name: 'grafana', scopes: ['runs:read'], sha256: sha('grafana-secret').toUpperCase() },
      ]),
    );
    expect(env.namedTokens).toEqual([
      { name: 'ci', scopes: ['ingestions:write', 'runs:read'], sha256: sha('ci-secret') },
      { name: 'grafana', scopes: ['runs:read'], sha256: sha('grafana-secret') },
    ]);
    expect(env.apiToken).toBeUndefined();
  });

  it('names the bad entry and what is wrong with it', () => {
    const problems = (entries: unknown) => {
      try {
        loadDashboardEnv(tokens(entries));
      } catch (err) {
        expect(err).toBeInstanceOf(DashboardConfigError);
        return (err as DashboardConfigError).problems;
      }
      throw new Error('accepted');
    };
    const good = { name: 'ci', scopes: ['runs:read'], sha256: sha('x') };
    expect(problems([good, { ...good, name: 'bad', scopes: ['runs:write'] }])).toEqual([
      expect.stringMatching(/^API_TOKENS\[1\] \("bad"\) scopes\.0: .*runs:read/),
    ]);
    expect(problems([{ ...good, sha256: 'abc' }])).toEqual([
      expect.stringMatching(/^API_TOKENS\[0\] \("ci"\) sha256: must be 64 hex digits: printf %s "\$TOKEN" \| sha256sum/),
    ]);
    expect(problems([{ ...good, scopes: [] }])).toEqual([expect.stringMatching(/API_TOKENS\[0\] \("ci"\) scopes: must list at least one scope/)]);
    expect(problems([good, { ...good, sha256: sha('y') }])).toEqual([expect.stringMatching(/API_TOKENS\[1\] \("ci"\): the name "ci" is used twice/)]);
    expect(problems([good, { ...good, name: 'other' }])).toEqual([expect.stringMatching(/API_TOKENS\[1\] \("other"\): the same token hash/)]);
    expect(problems([{ ...good, token: 'plain' }])).toEqual([expect.stringMatching(/API_TOKENS\[0\] \("ci"\) .*token/)]);
    expect(problems([{ ...good, name: 'api-token' }])).toEqual([expect.stringMatching(/"api-token" is the name of API_TOKEN/)]);
    expect(problems({ name: 'ci' })).toEqual(['API_TOKENS: must be a JSON array of {"name", "scopes", "sha256"}']);
    expect(() => loadDashboardEnv({ ...board, API_TOKENS: 'ci:runs:read:abc' })).toThrow(/API_TOKENS: must be JSON/);
  });

  it('checks the OIDC settings together', () => {
    expect(() => loadDashboardEnv({ ...board, OIDC_ISSUER: 'https://id.example.org' })).toThrow(/OIDC_AUDIENCE: required with OIDC_ISSUER/);
    expect(() => loadDashboardEnv({ ...board, OIDC_ISSUER: 'http://id.example.org', OIDC_AUDIENCE: 'osa' })).toThrow(/OIDC_ISSUER: must be an https/);
    expect(() => loadDashboardEnv({ ...board, API_TOKEN: 'a'.repeat(24), OIDC_AUDIENCE: 'osa' })).toThrow(/OIDC_AUDIENCE: set without OIDC_ISSUER/);
    expect(loadDashboardEnv({ ...board, OIDC_ISSUER: 'http://127.0.0.1:9/', OIDC_AUDIENCE: 'osa' }).oidc).toEqual({
      issuer: 'http://127.0.0.1:9/',
      audience: 'osa',
      jwksUrl: undefined,
      scopeClaim: 'scope',
    });
    expect(() => loadDashboardEnv({ ...board, SESSION_SECRET: 'short' })).toThrow(/SESSION_SECRET: must be at least 32/);
  });
});

describe(StaticTokens.name, () => {
  it('knows API_TOKEN as every scope and a named token by its hash only', () => {
    const verifier = new StaticTokens('legacy-token-0123456789abcdef', [{ name: 'reader', scopes: ['runs:read'], sha256: sha('reader-secret') }]);
    expect(verifier.verify('legacy-token-0123456789abcdef')).toEqual({
      name: 'api-token',
      scopes: new Set(['runs:read', 'ingestions:write', 'conventions:write']),
      via: 'token',
    });
    expect(verifier.verify('reader-secret')).toEqual({ name: 'reader', scopes: new Set(['runs:read']), via: 'token' });
    expect(verifier.verify(sha('reader-secret'))).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
  });
});

describe(SessionCodec.name, () => {
  const principal = { name: 'ci', scopes: new Set(['runs:read'] as const), via: 'token' as const };

  it('opens what it sealed until it expires, and nothing altered or signed by another key', () => {
    const codec = new SessionCodec({ sessionSecret: 's'.repeat(32), sessionTtlSeconds: 600 });
    const { value, payload } = codec.seal(principal, 1_000);
    expect(payload).toEqual({ name: 'ci', scopes: ['runs:read'], exp: 1_600 });
    expect(codec.open(value, 1_599)).toEqual(payload);
    expect(codec.open(value, 1_600)).toBeUndefined();

    const [body, mac] = value.split('.') as [string, string];
    const widened = Buffer.from(JSON.stringify({ ...payload, scopes: ['conventions:write'] })).toString('base64url');
    expect(codec.open(`${widened}.${mac}`, 1_000)).toBeUndefined();
    expect(codec.open(`${body}.${mac.slice(0, -1)}`, 1_000)).toBeUndefined();
    expect(new SessionCodec({ sessionSecret: 't'.repeat(32) }).open(value, 1_000)).toBeUndefined();
    // Two processes without SESSION_SECRET do not accept each other's sessions.
    expect(new SessionCodec({}).open(new SessionCodec({}).seal(principal, 1_000).value, 1_000)).toBeUndefined();
  });

  it('never outlives the credential it was made from, and gives each session its own CSRF token', () => {
    const codec = new SessionCodec({ sessionSecret: 's'.repeat(32) });
    expect(codec.seal(principal, 1_000, 1_100).payload.exp).toBe(1_100);
    expect(codec.seal(principal, 1_000).payload.exp).toBe(1_000 + 8 * 3600);
    const a = codec.seal(principal, 1_000).value;
    const b = codec.seal(principal, 1_001).value;
    expect(codec.csrfFor(a)).not.toBe(codec.csrfFor(b));
    expect(codec.csrfFor(a)).not.toContain(a.split('.')[1]);
  });
});

describe(safeNextPath.name, () => {
  it('keeps same-origin paths only', () => {
    expect(safeNextPath('/runs/abc?status=running')).toBe('/runs/abc?status=running');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'runs', '/a\nb', undefined, 42])
      expect(safeNextPath(bad)).toBe('/');
  });
});

describe('image allow-list', () => {
  const prefixes = ['registry.example.org/osa', 'ghcr.io/acme/'];

  it('matches a prefix only at a boundary of the image reference', () => {
    for (const ok of ['registry.example.org/osa/hook:1', 'registry.example.org/osa:2', 'registry.example.org/osa@sha256:ab', 'ghcr.io/acme/x'])
      expect([ok, imageAllowed(ok, prefixes)]).toEqual([ok, true]);
    for (const bad of ['registry.example.org/osa-evil/x', 'registry.example.org/os', 'ghcr.io/acme', 'evil.example/registry.example.org/osa/x'])
      expect([bad, imageAllowed(bad, prefixes)]).toEqual([bad, false]);
    expect(imageAllowed('anything:latest', [])).toBe(true);
  });

  it('names each convention image outside the list, and is read from ALLOWED_IMAGE_PREFIXES by the services and the Kubernetes runner', () => {
    const convention = { ingester: { image: 'ghcr.io/acme/in:1' }, hooks: [{ image: 'docker.io/evil:1' }, {}] } as never;
    expect(conventionImageProblems(convention, prefixes)).toEqual([
      'hooks.0.image: image "docker.io/evil:1" is not allowed: ALLOWED_IMAGE_PREFIXES allows only "registry.example.org/osa", "ghcr.io/acme/"',
    ]);
    expect(loadConfig({ ALLOWED_IMAGE_PREFIXES: 'registry.example.org/osa, ghcr.io/acme/' }).allowedImagePrefixes).toEqual(prefixes);
    expect(loadConfig({}).allowedImagePrefixes).toEqual([]);
    expect(() => loadConfig({ ALLOWED_IMAGE_PREFIXES: 'a b/' })).toThrow(/ALLOWED_IMAGE_PREFIXES/);
    expect(parseKubernetesRunnerConfig({ K8S_DATA_MOUNT_PATH: '/data', ALLOWED_IMAGE_PREFIXES: 'ghcr.io/acme/' }).allowedImagePrefixes).toEqual([
      'ghcr.io/acme/',
    ]);
  });
});

describe('Kubernetes runner and the image allow-list', () => {
  /** A Kubernetes API that records each call and fails it: the runner gets no further. */
  function recordingApis(calls: string[]): KubernetesApis {
    const api = (group: string) =>
      new Proxy({}, { get: (_t, method) => () => (calls.push(`${group}.${String(method)}`), Promise.reject(new Error('api called'))) });
    return { batch: api('batch'), core: api('core') } as unknown as KubernetesApis;
  }
  const request = (image: string) => ({
    role: 'hook' as const,
    runId: '00000000-0000-4000-8000-000000000000',
    batchIndex: 0,
    hook: 'flag',
    attempt: 1,
    image,
    command: ['true'],
    limits: { timeout_seconds: 60, memory: '256m', cpu: '0.5' },
    env: {},
    dirs: { in: '/data/in', out: '/data/out', files: '/data/files' },
  });

  it('creates no Job for an image outside ALLOWED_IMAGE_PREFIXES, even one a convention stored earlier names', async () => {
    const calls: string[] = [];
    const config = parseKubernetesRunnerConfig({ K8S_DATA_MOUNT_PATH: '/data', ALLOWED_IMAGE_PREFIXES: 'ghcr.io/acme/' });
    const runner = new KubernetesJobRunner(config, recordingApis(calls), { warn: () => undefined });

    const refused = runner.run(request('docker.io/evil/miner:1'));
    await expect(refused).rejects.toBeInstanceOf(PermanentError);
    await expect(refused).rejects.toMatchObject({
      kind: ErrorKind.InvalidConvention,
      message: expect.stringMatching(/"docker\.io\/evil\/miner:1" is not allowed.*"ghcr\.io\/acme\/"/),
    });
    expect(calls).toEqual([]);

    await expect(runner.run(request('ghcr.io/acme/flag:1'))).rejects.toThrow('api called');
    expect(calls.length).toBeGreaterThan(0);
  });
});
