import type { HttpRequest } from './http-request.js';

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();

/**
 * Whether a state-changing request was sent by the dashboard's own pages. A browser marks every
 * request with `Sec-Fetch-Site` (on https and localhost) and every form post or fetch POST with
 * `Origin`; neither can be set by a page, so a cross-site form or script is recognised. The
 * `Origin` is compared with the Host the browser addressed (`X-Forwarded-Host` behind a proxy
 * that rewrites Host). A request with neither header does not come from a browser (curl, a
 * script), and a cross-site page cannot make a browser drop them, so it is let through: the
 * credential checks still apply to it.
 */
export function fromSameOrigin(request: HttpRequest): boolean {
  const site = first(request.headers['sec-fetch-site']);
  if (site !== undefined) return site === 'same-origin';
  const origin = first(request.headers.origin);
  if (origin === undefined) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    // `Origin: null` (a sandboxed frame, a redirect across sites) or garbage.
    return false;
  }
  return host === first(request.headers.host) || host === first(request.headers['x-forwarded-host']);
}

export const CROSS_SITE_MESSAGE =
  'cross-site request refused: a state-changing request by a browser session must come from the dashboard itself (Origin / Sec-Fetch-Site)';
