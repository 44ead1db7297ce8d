import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Authenticator } from './authenticator.js';
import { type HttpRequest, safeNextPath } from './http-request.js';
import { PAGE_HEADERS } from '../pages/page-response.js';
import { LOGIN_STYLE_SOURCE, renderLoginPage } from './login-page.js';
import { Public } from './require-scopes.decorator.js';
import { sessionCookie } from './session.js';

/**
 * Browser sessions: the form posts a token, verified like a bearer token, and gets a signed
 * HttpOnly SameSite=Strict cookie back. Pages and forms then authenticate by that cookie. Both
 * posts are public, so the guard lets them through only from the dashboard's own origin: another
 * site can neither sign a browser in to an account of its choosing nor sign it out.
 */
@Controller()
@Public()
export class LoginController {
  constructor(private readonly auth: Authenticator) {}

  @Get('login')
  form(@Req() request: HttpRequest, @Res() response: ServerResponse): void {
    const next = safeNextPath(new URL(request.url ?? '/', 'http://x').searchParams.get('next'));
    sendPage(response, 200, renderLoginPage({ next, signedInAs: request.principal?.name }));
  }

  @Post('login')
  async login(@Req() request: HttpRequest, @Res() response: ServerResponse): Promise<void> {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const next = safeNextPath(body.next);
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    let verified;
    try {
      verified = token ? await this.auth.verifyToken(token) : undefined;
    } catch (err) {
      // A rejected JWT or an unreachable issuer: the form says so without a stack trace.
      return sendPage(response, 401, renderLoginPage({ next, error: `Sign-in failed: ${(err as Error).message}` }));
    }
    if (!verified) return sendPage(response, 401, renderLoginPage({ next, error: 'That token is not accepted.' }));
    const { value, maxAgeSeconds } = this.auth.startSession(verified);
    response.setHeader('Set-Cookie', sessionCookie(value, { maxAgeSeconds, secure: this.auth.secureCookie(request) }));
    redirect(response, next);
  }

  @Post('logout')
  logout(@Req() request: HttpRequest, @Res() response: ServerResponse): void {
    response.setHeader('Set-Cookie', sessionCookie(null, { maxAgeSeconds: 0, secure: this.auth.secureCookie(request) }));
    redirect(response, '/login');
  }
}

/** The pages' security headers (never framed, nothing but the dashboard's own resources), plus the form's inline style. */
const LOGIN_HEADERS: Readonly<Record<string, string>> = {
  ...PAGE_HEADERS,
  'Content-Security-Policy': PAGE_HEADERS['Content-Security-Policy']!.replace("style-src 'self'", `style-src 'self' ${LOGIN_STYLE_SOURCE}`),
};

function sendPage(response: ServerResponse, status: number, html: string): void {
  response.statusCode = status;
  for (const [name, value] of Object.entries(LOGIN_HEADERS)) response.setHeader(name, value);
  response.end(html);
}

function redirect(response: ServerResponse, location: string): void {
  response.statusCode = 303;
  response.setHeader('Location', location);
  response.setHeader('Cache-Control', 'no-store');
  response.end();
}
