import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hmac, sameMac } from '../credentials.js';
import type { DashboardEnv } from '../dashboard-env.js';
import type { HttpRequest } from './http-request.js';
import { type Principal, scopeSchema } from './scopes.js';

export const SESSION_COOKIE = 'osa_session';
/** The form field (or `x-csrf-token` header) a state-changing request by session must carry. */
export const CSRF_FIELD = 'csrf';
export const CSRF_HEADER = 'x-csrf-token';
const DEFAULT_TTL_SECONDS = 8 * 3600;

const payloadSchema = z.object({
  name: z.string().min(1),
  scopes: z.array(scopeSchema),
  exp: z.number().int(),
});
export type SessionPayload = z.output<typeof payloadSchema>;

/**
 * Browser sessions in a signed cookie: `base64url(JSON {name, scopes, exp}).HMAC-SHA256`. Nothing
 * is stored server-side, so a session lasts until `exp` (or until SESSION_SECRET changes).
 */
export class SessionCodec {
  private readonly key: Buffer;
  readonly ttlSeconds: number;

  constructor(env: Pick<DashboardEnv, 'sessionSecret' | 'sessionTtlSeconds'>) {
    // Without SESSION_SECRET each process signs with its own key: sessions end with the process
    // and are not shared between replicas.
    this.key = env.sessionSecret ? Buffer.from(env.sessionSecret, 'utf8') : randomBytes(32);
    this.ttlSeconds = env.sessionTtlSeconds ?? DEFAULT_TTL_SECONDS;
  }

  /** A cookie value for the principal, expiring after the TTL or at `notAfter` (epoch seconds). */
  seal(principal: Principal, nowSeconds: number, notAfter?: number): { value: string; payload: SessionPayload } {
    const exp = Math.min(nowSeconds + this.ttlSeconds, notAfter ?? Number.POSITIVE_INFINITY);
    const payload: SessionPayload = { name: principal.name, scopes: [...principal.scopes], exp };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { value: `${body}.${this.mac('session', body)}`, payload };
  }

  /** The payload of a cookie value this process (or one sharing SESSION_SECRET) sealed, if unexpired. */
  open(value: string, nowSeconds: number): SessionPayload | undefined {
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const body = value.slice(0, dot);
    if (!sameMac(value.slice(dot + 1), this.mac('session', body))) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    const parsed = payloadSchema.safeParse(json);
    return parsed.success && parsed.data.exp > nowSeconds ? parsed.data : undefined;
  }

  /** The double-submit CSRF token of a session: an HMAC of its cookie value, under another label. */
  csrfFor(cookieValue: string): string {
    return this.mac('csrf', cookieValue);
  }

  private mac(label: string, message: string): string {
    return hmac(this.key, `${label}\u0000${message}`);
  }
}

const csrfByRequest = new WeakMap<object, string>();

/** Called by the auth guard for a request authenticated by its session cookie. */
export function rememberCsrf(request: HttpRequest, token: string): void {
  csrfByRequest.set(request, token);
}

/**
 * The CSRF token a server-rendered form must send back as the hidden field `csrf` (or the
 * `x-csrf-token` header); '' when the request was not authenticated by a session cookie.
 */
export function csrfToken(request: object): string {
  return csrfByRequest.get(request) ?? '';
}

/** Whether a request authenticated by its session carries that session's CSRF token. */
export function hasValidCsrf(request: HttpRequest): boolean {
  const expected = csrfByRequest.get(request);
  if (!expected) return false;
  const fromBody = (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
  const fromHeader = request.headers[CSRF_HEADER];
  const given = typeof fromBody === 'string' ? fromBody : typeof fromHeader === 'string' ? fromHeader : '';
  return sameMac(given, expected);
}

/** `Set-Cookie` for a session (or, with `value` null, for ending it). */
export function sessionCookie(value: string | null, options: { maxAgeSeconds: number; secure: boolean }): string {
  const attributes = [`${SESSION_COOKIE}=${value ?? ''}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${value ? options.maxAgeSeconds : 0}`];
  if (options.secure) attributes.push('Secure');
  return attributes.join('; ');
}
