import { HttpException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/authenticator.js';
import type { HttpRequest } from '../auth/http-request.js';
import { wantsPage } from '../auth/login-required.js';
import { CROSS_SITE_MESSAGE, fromSameOrigin } from '../auth/same-origin.js';
import { missingScopes, type Principal, type Scope } from '../auth/scopes.js';

type Next = (err?: unknown) => void;

/** Viewing the board needs runs:read; anything else it does (add, retry, promote, clean, pause) changes queues. */
const VIEW: readonly Scope[] = ['runs:read'];
const CHANGE: readonly Scope[] = ['runs:read', 'ingestions:write'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Express middleware putting Bull Board under the dashboard's own credentials: a bearer token or
 * the session from /login, with the same scopes as the API. Bull Board is mounted as middleware,
 * which Nest guards never see (they run only for Nest route handlers), so the check sits in front
 * of it in the same chain. The board's UI sends its changes by fetch without the session's CSRF
 * token, so a change by session (or with DASHBOARD_INSECURE_DEV) must come from the dashboard's
 * own origin instead.
 */
export function boardAuth(auth: Authenticator) {
  return (req: HttpRequest, res: ServerResponse, next: Next): void => {
    authorize(auth, req).then(
      (refusal) => (refusal ? refuse(res, refusal) : next()),
      (err: unknown) => (err instanceof HttpException ? refuse(res, { status: err.getStatus(), message: err.message }) : next(err)),
    );
  };
}

async function authorize(auth: Authenticator, req: HttpRequest): Promise<Refusal | undefined> {
  const principal = await auth.authenticate(req);
  if (!principal) {
    if (wantsPage(req)) {
      return {
        status: 303,
        message: 'sign in first',
        headers: { Location: `/login?next=${encodeURIComponent(req.originalUrl ?? req.url ?? '/queues')}` },
      };
    }
    return {
      status: 401,
      message: 'a valid bearer token is required (Authorization: Bearer <token>), or a session from /login',
      headers: { 'WWW-Authenticate': 'Bearer realm="osa-ingest"' },
    };
  }
  req.principal = principal;
  const changes = !SAFE_METHODS.has(req.method ?? 'GET');
  const missing = missingScopes(principal, changes ? CHANGE : VIEW);
  if (missing.length) return { status: 403, message: `missing scope ${missing.join(', ')}: "${principal.name}" has ${describe(principal)}` };
  if (changes && principal.via !== 'token' && principal.via !== 'jwt' && !fromSameOrigin(req)) return { status: 403, message: CROSS_SITE_MESSAGE };
  return undefined;
}

const describe = (principal: Principal) => (principal.scopes.size ? [...principal.scopes].join(', ') : 'no scope');

function refuse(res: ServerResponse, refusal: Refusal): void {
  res.statusCode = refusal.status;
  for (const [name, value] of Object.entries(refusal.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(refusal.message);
}
