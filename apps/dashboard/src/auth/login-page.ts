import { createHash } from 'node:crypto';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const LOGIN_STYLE = `
    body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f8fa; }
    main { max-width: 26rem; margin: 10vh auto; padding: 2rem; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; }
    h1 { font-size: 1.4rem; margin-top: 0; }
    label { display: block; font-weight: 600; margin-bottom: .25rem; }
    input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #6e7781; border-radius: 4px; }
    button { margin-top: 1rem; padding: .5rem 1rem; font: inherit; color: #fff; background: #1f6feb; border: 0; border-radius: 4px; cursor: pointer; }
    .error { color: #a40e26; font-weight: 600; }
    .hint { color: #57606a; font-size: .9rem; }
  `;

/**
 * The CSP source allowing this inline stylesheet by its hash: the login page sends the pages'
 * headers with it added to style-src, and needs no asset of its own.
 */
export const LOGIN_STYLE_SOURCE = `'sha256-${createHash('sha256').update(LOGIN_STYLE).digest('base64')}'`;

/** The login form: plain HTML, no script, so it works without JavaScript and under a strict CSP. */
export function renderLoginPage(options: { next: string; error?: string; signedInAs?: string }): string {
  const error = options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : '';
  const signedIn = options.signedInAs
    ? `<p>Signed in as <strong>${escapeHtml(options.signedInAs)}</strong>.</p>
      <form method="post" action="/logout"><button type="submit">Sign out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in · osa-ingest</title>
  <style>${LOGIN_STYLE}</style>
</head>
<body>
<main>
  <h1>osa-ingest dashboard</h1>
  ${signedIn}
  ${error}
  <form method="post" action="/login">
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required>
    <input type="hidden" name="next" value="${escapeHtml(options.next)}">
    <button type="submit">Sign in</button>
  </form>
  <p class="hint">A static API token or an access token (JWT) of the configured OIDC issuer. The session lasts until it expires or you sign out.</p>
</main>
</body>
</html>
`;
}
