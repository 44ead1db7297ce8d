import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, type Type, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { Authenticator } from './authenticator.js';
import type { HttpRequest } from './http-request.js';
import { LoginRequired, wantsPage } from './login-required.js';
import { IS_PUBLIC, REQUIRED_SCOPES } from './require-scopes.decorator.js';
import { CROSS_SITE_MESSAGE, fromSameOrigin } from './same-origin.js';
import { assertScopes } from './scope-check.js';
import type { Scope } from './scopes.js';
import { hasValidCsrf } from './session.js';

/** Controllers from the shared libraries that stay open (probes and scrapers): health, metrics. */
export const OPEN_CONTROLLERS = Symbol('OPEN_CONTROLLERS');

/** What a route without @RequireScopes or @Public needs: nothing is open by accident. */
const DEFAULT_SCOPES: readonly Scope[] = ['runs:read'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request asks to change state (anything but GET, HEAD, OPTIONS). */
export const changesState = (request: HttpRequest): boolean => !SAFE_METHODS.has(request.method ?? 'GET');

/**
 * The one guard of every dashboard route (registered globally). It resolves the principal, puts
 * it on `request.principal`, and answers 401 without a valid credential (a browser asking for a
 * page is redirected to /login instead), or 403 naming the missing scope. A state-changing
 * request that a browser could have been made to send by another site — one authenticated by the
 * session cookie or by nothing (a public route such as /login, or DASHBOARD_INSECURE_DEV) — must
 * come from the dashboard's own origin (403 otherwise); by session it must also carry the
 * session's CSRF token. A bearer token is never sent by a browser on its own, so it needs neither.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: Authenticator,
    @Inject(OPEN_CONTROLLERS) private readonly openControllers: ReadonlySet<Type>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const targets = [context.getHandler(), context.getClass()];
    if (this.openControllers.has(context.getClass())) return true;
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets)) {
      if (changesState(request) && !fromSameOrigin(request)) throw new ForbiddenException(CROSS_SITE_MESSAGE);
      // Only the session is read: a public route never waits on an issuer's keys.
      request.principal = await this.auth.authenticate(request, { bearer: false });
      return true;
    }
    const challenge = () => context.switchToHttp().getResponse<ServerResponse>().setHeader('WWW-Authenticate', 'Bearer realm="osa-ingest"');
    const principal = await this.auth.authenticate(request).catch((err: unknown) => {
      if (err instanceof UnauthorizedException) challenge();
      throw err;
    });
    if (!principal) {
      if (wantsPage(request)) throw new LoginRequired(request.originalUrl ?? request.url ?? '/');
      challenge();
      throw new UnauthorizedException('a valid bearer token is required (Authorization: Bearer <token>), or a session from /login');
    }
    request.principal = principal;
    if (changesState(request) && (principal.via === 'session' || principal.via === 'insecure-dev')) {
      if (!fromSameOrigin(request)) throw new ForbiddenException(CROSS_SITE_MESSAGE);
      if (principal.via === 'session' && !hasValidCsrf(request)) {
        throw new ForbiddenException('missing or wrong CSRF token: a form sent with the session cookie must carry the hidden field "csrf"');
      }
    }
    assertScopes(principal, this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? DEFAULT_SCOPES);
    return true;
  }
}
