export { assertScopes } from './scope-check.js';
export { AuthModule } from './auth.module.js';
export { Authenticator } from './authenticator.js';
export type { HttpRequest } from './http-request.js';
export { Public, RequireScopes } from './require-scopes.decorator.js';
export { ALL_SCOPES, type Principal, type Scope } from './scopes.js';
export { CSRF_FIELD, CSRF_HEADER, csrfToken, hasValidCsrf } from './session.js';
