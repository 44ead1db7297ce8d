import { ForbiddenException } from '@nestjs/common';
import { missingScopes, type Principal, type Scope } from './scopes.js';

/**
 * Throws a 403 naming each missing scope. Handlers call it for scopes that depend on the body
 * (replay's image override); the guard calls it for the route's own.
 */
export function assertScopes(principal: Principal | undefined, required: readonly Scope[], purpose?: string): void {
  const missing = principal ? missingScopes(principal, required) : [...required];
  if (!missing.length) return;
  const has = principal?.scopes.size ? [...principal.scopes].join(', ') : 'no scope';
  throw new ForbiddenException({
    statusCode: 403,
    error: 'Forbidden',
    message: `missing scope ${missing.join(', ')}${purpose ? ` (${purpose})` : ''}: "${principal?.name ?? 'anonymous'}" has ${has}`,
    missingScopes: missing,
  });
}
