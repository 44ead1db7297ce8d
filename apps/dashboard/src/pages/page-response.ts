import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { errorPage } from './actions.view.js';
import type { Html } from './html.js';

/**
 * Pages load only the dashboard's own stylesheet and script and are never framed (CSP
 * frame-ancestors, and X-Frame-Options for browsers without it); with every value escaped by
 * `html`, this is the second line against injected markup. The login form sends them too.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export function sendPage(response: ServerResponse, page: Html, status = 200): void {
  response.statusCode = status;
  for (const [name, value] of Object.entries(PAGE_HEADERS)) response.setHeader(name, value);
  response.end(page.toString());
}

/** The pages answer errors (400 naming the field, 403 naming the scope, 404, 409) as HTML. */
@Catch(HttpException)
export class PageErrorFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<ServerResponse>();
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message = typeof body === 'string' ? body : (describeMessage((body as { message?: unknown }).message) ?? exception.message);
    const title = typeof body === 'object' && body && 'error' in body ? String(body.error) : exception.name;
    const wwwAuthenticate = response.getHeader('WWW-Authenticate');
    if (wwwAuthenticate === undefined && status === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="osa-ingest"');
    sendPage(response, errorPage(status, title, message), status);
  }
}

/** Nest's `message` is a string, or a list of them from validation (joined as String joins them). */
function describeMessage(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join(',');
  return undefined;
}
