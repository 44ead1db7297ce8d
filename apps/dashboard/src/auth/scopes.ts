import { z } from 'zod';

/**
 * What a credential may do. `conventions:write` chooses the command or image the runners start,
 * so it is code execution on the service hosts (or in the cluster) — see README "Security".
 */
export type Scope = 'runs:read' | 'ingestions:write' | 'conventions:write';

export const ALL_SCOPES: readonly Scope[] = ['runs:read', 'ingestions:write', 'conventions:write'];

export const scopeSchema = z.enum(ALL_SCOPES as [Scope, ...Scope[]]);

export const isScope = (value: unknown): value is Scope => ALL_SCOPES.includes(value as Scope);

/** Who made a request and what they may do; the auth guard puts it on `request.principal`. */
export interface Principal {
  name: string;
  scopes: Set<Scope>;
  /** `insecure-dev`: no credential is configured and DASHBOARD_INSECURE_DEV=true. */
  via: 'token' | 'jwt' | 'session' | 'insecure-dev';
}

/** The scopes of `required` the principal lacks, in the order asked. */
export function missingScopes(principal: Principal, required: readonly Scope[]): Scope[] {
  return required.filter((scope) => !principal.scopes.has(scope));
}
