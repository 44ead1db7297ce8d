import { Inject, Injectable, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { DashboardEnv } from '../dashboard-env.js';
import { DASHBOARD_ENV } from '../tokens.js';
import { type HttpRequest, readCookie } from './http-request.js';
import { JwksUnavailable, JwtRejected, looksLikeJwt, OidcVerifier } from './oidc-verifier.js';
import { ALL_SCOPES, type Principal } from './scopes.js';
import { rememberCsrf, SESSION_COOKIE, SessionCodec } from './session.js';
import { StaticTokens } from './static-tokens.js';

export interface VerifiedToken {
  principal: Principal;
  /** When the credential itself expires (epoch seconds), if it does. */
  expiresAt?: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Turns a request's credential into a {@link Principal}: `Authorization: Bearer` (a static token,
 * or a JWT when OIDC is configured) first, else the `osa_session` cookie. Other Authorization
 * schemes are ignored: a browser may still resend a basic-auth header it once gave this host.
 */
@Injectable()
export class Authenticator {
  readonly sessions: SessionCodec;
  private readonly tokens: StaticTokens;
  private readonly oidc?: OidcVerifier;

  constructor(@Inject(DASHBOARD_ENV) private readonly env: DashboardEnv) {
    this.sessions = new SessionCodec(env);
    this.tokens = new StaticTokens(env.apiToken, env.namedTokens);
    this.oidc = env.oidc ? new OidcVerifier(env.oidc) : undefined;
  }

  /** No credential of any kind is configured (only with DASHBOARD_INSECURE_DEV=true): all is open. */
  get wideOpen(): boolean {
    return this.env.insecureDev && !this.tokens.configured && !this.oidc;
  }

  /** Verifies a bearer token (or the token typed into the login form); undefined when unknown. */
  async verifyToken(token: string): Promise<VerifiedToken | undefined> {
    if (this.oidc && looksLikeJwt(token)) return this.oidc.verify(token);
    const principal = this.tokens.verify(token);
    return principal && { principal };
  }

  /**
   * The request's principal, or undefined when it carries no credential (or only an expired or
   * forged session cookie). A bearer token that is presented but wrong is a 401 at once.
   */
  async authenticate(request: HttpRequest, options: { bearer: boolean } = { bearer: true }): Promise<Principal | undefined> {
    if (this.wideOpen) return { name: 'insecure-dev', scopes: new Set(ALL_SCOPES), via: 'insecure-dev' };
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (bearer && options.bearer) return (await this.bearer(bearer[1]!)).principal;
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = cookie ? this.sessions.open(cookie, nowSeconds()) : undefined;
    if (!cookie || !session) return undefined;
    rememberCsrf(request, this.sessions.csrfFor(cookie));
    return { name: session.name, scopes: new Set(session.scopes), via: 'session' };
  }

  private async bearer(token: string): Promise<VerifiedToken> {
    let verified: VerifiedToken | undefined;
    try {
      verified = await this.verifyToken(token);
    } catch (err) {
      if (err instanceof JwtRejected) throw new UnauthorizedException(err.reason);
      if (err instanceof JwksUnavailable) throw new ServiceUnavailableException(err.message);
      throw err;
    }
    if (!verified) throw new UnauthorizedException('a valid bearer token is required (Authorization: Bearer <token>)');
    return verified;
  }

  /** A session cookie value for a verified token, and how long it lives. */
  startSession(verified: VerifiedToken): { value: string; maxAgeSeconds: number } {
    const now = nowSeconds();
    const { value, payload } = this.sessions.seal(verified.principal, now, verified.expiresAt);
    return { value, maxAgeSeconds: Math.max(0, payload.exp - now) };
  }

  /** Whether the session cookie gets `Secure`: SESSION_COOKIE_SECURE, else when the request came over TLS. */
  secureCookie(request: HttpRequest): boolean {
    return this.env.sessionCookieSecure ?? Boolean(request.secure);
  }
}
