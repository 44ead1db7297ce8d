import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { type HttpRequest, requestPath } from './http-request.js';

/** A browser asked for a page without a session: it is sent to the login form, and back after. */
export class LoginRequired extends Error {
  constructor(readonly next: string) {
    super('login required');
    this.name = 'LoginRequired';
  }
}

/** GET/HEAD of a non-API path by a client that accepts HTML: a browser navigating to a page. */
export function wantsPage(request: HttpRequest): boolean {
  const path = requestPath(request);
  if (path === '/api' || path.startsWith('/api/')) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  return /\btext\/html\b/i.test(request.headers.accept ?? '');
}

@Catch(LoginRequired)
export class LoginRedirectFilter implements ExceptionFilter {
  catch(exception: LoginRequired, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ServerResponse>();
    response.statusCode = 303;
    response.setHeader('Location', `/login?next=${encodeURIComponent(exception.next)}`);
    response.setHeader('Cache-Control', 'no-store');
    response.end();
  }
}
