import { z } from 'zod';
import { type Scope, scopeSchema } from './auth/scopes.js';

/** One of API_TOKENS: a named token, stored as the SHA-256 of the secret only. */
export interface NamedToken {
  name: string;
  scopes: Scope[];
  /** Lowercase hex SHA-256 of the token. */
  sha256: string;
}

/** JWT bearer tokens from an OIDC issuer (machine-to-machine clients). */
export interface OidcSettings {
  issuer: string;
  audience: string;
  /** Unset: the issuer's discovery document names it (or `${issuer}/.well-known/jwks.json`). */
  jwksUrl?: string;
  /** The claim holding the scopes: a space-separated string or an array of strings. */
  scopeClaim: string;
}

/** The dashboard's own settings, on top of the services' AppConfig. Unset settings stay undefined. */
export interface DashboardEnv {
  /**
   * Settings still accepted but no longer used (DASHBOARD_USER, DASHBOARD_PASSWORD: Bull Board is
   * behind the API's credentials now); the service warns about each at startup.
   */
  ignored: string[];
  /** The single legacy bearer token: every scope. */
  apiToken?: string;
  namedTokens?: NamedToken[];
  oidc?: OidcSettings;
  /** Signs browser sessions; unset: a random key per process (sessions end with the process). */
  sessionSecret?: string;
  /** How long a browser session lasts; unset: 8 hours. */
  sessionTtlSeconds?: number;
  /** Mark the session cookie Secure; unset: when the request came over TLS. */
  sessionCookieSecure?: boolean;
  insecureDev: boolean;
}

/** The principal name of API_TOKEN. */
export const LEGACY_TOKEN_NAME = 'api-token';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on a loopback address (a local issuer in development and tests). */
const issuerUrl = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  } catch {
    return false;
  }
}, 'must be an https:// URL (http:// only for localhost)');

const namedTokenSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", "@" or "-"')
      .refine((n) => n !== LEGACY_TOKEN_NAME, `"${LEGACY_TOKEN_NAME}" is the name of API_TOKEN`),
    scopes: z.array(scopeSchema).min(1, 'must list at least one scope'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits: printf %s "$TOKEN" | sha256sum')
      .transform((h) => h.toLowerCase()),
  })
  .strict();

/** The variables the dashboard reads on top of the services' AppConfig. */
export const dashboardEnvSchema = z.object({
  DASHBOARD_USER: z.string().optional(),
  DASHBOARD_PASSWORD: z.string().optional(),
  API_TOKEN: z.string().min(24, 'must be at least 24 characters (e.g. `openssl rand -hex 24`)').optional(),
  API_TOKENS: z.string().optional(),
  OIDC_ISSUER: issuerUrl.optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_JWKS_URL: issuerUrl.optional(),
  OIDC_SCOPE_CLAIM: z.string().min(1).optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).optional(),
  SESSION_COOKIE_SECURE: z.enum(['true', 'false'], 'must be "true" or "false"').optional(),
  DASHBOARD_INSECURE_DEV: z.enum(['true', 'false'], 'must be "true" or "false"').default('false'),
});

/** Raised when the dashboard would start unprotected or with a bad setting; names every variable. */
export class DashboardConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid dashboard configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DashboardConfigError';
  }
}

/**
 * Parses API_TOKENS: a JSON array of `{"name", "scopes", "sha256"}`. Each problem names the
 * entry (its index and, when readable, its name).
 */
export function parseNamedTokens(raw: string): { tokens: NamedToken[]; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { tokens: [], problems: [`API_TOKENS: must be JSON (${(err as Error).message})`] };
  }
  if (!Array.isArray(value)) return { tokens: [], problems: ['API_TOKENS: must be a JSON array of {"name", "scopes", "sha256"}'] };
  const tokens: NamedToken[] = [];
  const problems: string[] = [];
  value.forEach((entry: unknown, index) => {
    const name = (entry as { name?: unknown } | null)?.name;
    const label = `API_TOKENS[${index}]${typeof name === 'string' ? ` ("${name}")` : ''}`;
    const parsed = namedTokenSchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label} ${issue.path.join('.') || '(entry)'}: ${issue.message}`);
      return;
    }
    const token = parsed.data;
    if (tokens.some((t) => t.name === token.name)) problems.push(`${label}: the name "${token.name}" is used twice`);
    else if (tokens.some((t) => t.sha256 === token.sha256)) problems.push(`${label}: the same token hash as another entry`);
    else tokens.push({ name: token.name, scopes: [...new Set(token.scopes)], sha256: token.sha256 });
  });
  return { tokens, problems };
}

/**
 * The API starts runs and Bull Board can add, retry, promote and delete jobs: the dashboard
 * refuses to start without an API credential (API_TOKEN, API_TOKENS or OIDC_ISSUER), which both
 * take, unless DASHBOARD_INSECURE_DEV=true (local development; whatever credentials are set still
 * apply). DASHBOARD_USER / DASHBOARD_PASSWORD (the board's former basic auth) are accepted and
 * ignored, so an existing deployment keeps starting; the service warns that they do nothing.
 */
export function loadDashboardEnv(env: Record<string, string | undefined> = process.env): DashboardEnv {
  const blankToUndefined = Object.fromEntries(Object.keys(dashboardEnvSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = dashboardEnvSchema.safeParse(blankToUndefined);
  if (!parsed.success) {
    throw new DashboardConfigError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  }
  const e = parsed.data;
  const insecureDev = e.DASHBOARD_INSECURE_DEV === 'true';
  const problems: string[] = [];
  const ignored = (['DASHBOARD_USER', 'DASHBOARD_PASSWORD'] as const).filter((k) => e[k] !== undefined);
  const named = e.API_TOKENS === undefined ? undefined : parseNamedTokens(e.API_TOKENS);
  if (named) problems.push(...named.problems);
  if (e.OIDC_ISSUER && !e.OIDC_AUDIENCE) problems.push('OIDC_AUDIENCE: required with OIDC_ISSUER (the `aud` every accepted JWT must carry)');
  for (const dependent of ['OIDC_AUDIENCE', 'OIDC_JWKS_URL', 'OIDC_SCOPE_CLAIM'] as const) {
    if (e[dependent] && !e.OIDC_ISSUER) problems.push(`${dependent}: set without OIDC_ISSUER`);
  }
  if (!e.API_TOKEN && !e.API_TOKENS && !e.OIDC_ISSUER && !insecureDev) {
    problems.push(
      'API_TOKEN: required — the HTTP API (/api) and Bull Board (/queues) start, replay and delete jobs, so they need a credential: API_TOKEN, named tokens in API_TOKENS, ' +
        'or JWTs from OIDC_ISSUER (or DASHBOARD_INSECURE_DEV=true)',
    );
  }
  if (problems.length) throw new DashboardConfigError(problems);
  return {
    apiToken: e.API_TOKEN,
    namedTokens: named?.tokens,
    oidc: e.OIDC_ISSUER
      ? { issuer: e.OIDC_ISSUER, audience: e.OIDC_AUDIENCE!, jwksUrl: e.OIDC_JWKS_URL, scopeClaim: e.OIDC_SCOPE_CLAIM ?? 'scope' }
      : undefined,
    sessionSecret: e.SESSION_SECRET,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    sessionCookieSecure: e.SESSION_COOKIE_SECURE === undefined ? undefined : e.SESSION_COOKIE_SECURE === 'true',
    insecureDev,
    ignored,
  };
}
