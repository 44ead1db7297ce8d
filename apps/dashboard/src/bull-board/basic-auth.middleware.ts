import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameSecret } from '../credentials.js';

type Next = (err?: unknown) => void;

/**
 * Express middleware that demands HTTP basic auth. Bull Board is mounted as middleware, which
 * Nest guards never see (they run only for Nest route handlers), so the check must sit in front
 * of it in the same chain.
 */
export function basicAuth(credentials: { user: string; password: string }, realm = 'osa-ingest dashboard') {
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (match) {
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      // Evaluate both so a wrong user name takes as long as a wrong password.
      const userOk = sameSecret(user, credentials.user);
      const passwordOk = sameSecret(password, credentials.password);
      if (userOk && passwordOk) return next();
    }
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('authentication required');
  };
}
