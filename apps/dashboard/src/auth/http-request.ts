import type { IncomingMessage } from 'node:http';
import type { Principal } from './scopes.js';

/** What the guard and the login routes read of Express's request (no @types/express here). */
export type HttpRequest = IncomingMessage & {
  body?: unknown;
  originalUrl?: string;
  path?: string;
  secure?: boolean;
  /** Set by the auth guard on every request that carried a valid credential. */
  principal?: Principal;
};

/** The value of one cookie, or undefined. */
export function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The request path without its query (Express's `path`, or parsed from the URL). */
export function requestPath(request: HttpRequest): string {
  return request.path ?? new URL(request.originalUrl ?? request.url ?? '/', 'http://x').pathname;
}

/**
 * A same-origin path to return to after logging in, or '/'. Only a plain absolute path is kept:
 * `//host`, `/\host` and anything with a scheme would send the browser elsewhere.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.length > 2048) return '/';
  if (next.startsWith('//') || next.startsWith('/\\') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  return next;
}
