import { SetMetadata } from '@nestjs/common';
import type { Scope } from './scopes.js';

export const REQUIRED_SCOPES = Symbol('REQUIRED_SCOPES');
export const IS_PUBLIC = Symbol('IS_PUBLIC');

/**
 * The scopes a route needs (all of them). On a handler it replaces the controller's. A route with
 * neither this nor {@link Public} needs `runs:read`: nothing is open by accident.
 */
export const RequireScopes = (...scopes: [Scope, ...Scope[]]) => SetMetadata(REQUIRED_SCOPES, scopes);

/** A route anyone may call (health-like documents, the login form); a session, if any, is still read. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
