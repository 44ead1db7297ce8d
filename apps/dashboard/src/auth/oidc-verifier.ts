import { createRemoteJWKSet, type JWTPayload, jwtVerify, type RemoteJWKSet } from 'jose';
import type { OidcSettings } from '../dashboard-env.js';
import { isScope, type Principal } from './scopes.js';

/** Why a JWT was refused (a 401), as opposed to the issuer's keys being unreadable (a 503). */
export class JwtRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JwtRejected';
  }
}

export class JwksUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailable';
  }
}

/** jose error codes that say the token is bad, not that its keys could not be fetched. */
const TOKEN_ERRORS = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
]);

/** Signature algorithms an issuer's public JWKS can back; never `none` or a shared secret (HS*). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Clock skew allowed between the issuer and us for `exp` and `nbf`. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** A JWT is three base64url parts; static tokens (hex or similar) never contain dots. */
export const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

export interface VerifiedJwt {
  principal: Principal;
  /** The token's `exp` (epoch seconds), so a session made from it does not outlive it. */
  expiresAt?: number;
}

/**
 * Verifies OIDC access tokens against the issuer's JWKS: signature, `iss`, `aud`, `exp`/`nbf`.
 * The key set is found once (OIDC_JWKS_URL, else the discovery document's `jwks_uri`, else
 * `${issuer}/.well-known/jwks.json`) and cached by jose, which refetches it for an unknown `kid`.
 */
export class OidcVerifier {
  private keys?: Promise<RemoteJWKSet>;

  constructor(private readonly settings: OidcSettings) {}

  async verify(token: string): Promise<VerifiedJwt> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && TOKEN_ERRORS.has(code)) throw new JwtRejected(`JWT rejected: ${(err as Error).message}`);
      throw new JwksUnavailable(`the OIDC issuer's keys could not be read: ${(err as Error).message}`, { cause: err });
    }
    const subject = payload.sub ?? stringClaim(payload, 'azp') ?? stringClaim(payload, 'client_id');
    if (!subject) throw new JwtRejected('JWT rejected: it names no subject (sub, azp or client_id)');
    return {
      principal: { name: subject, scopes: new Set(scopesOf(payload[this.settings.scopeClaim]).filter(isScope)), via: 'jwt' },
      expiresAt: payload.exp,
    };
  }

  private keySet(): Promise<RemoteJWKSet> {
    // A failed discovery is not cached: the next request tries again.
    this.keys ??= this.jwksUrl().then(
      (url) => createRemoteJWKSet(url, { timeoutDuration: 5_000 }),
      (err: unknown) => {
        this.keys = undefined;
        throw err;
      },
    );
    return this.keys;
  }

  private async jwksUrl(): Promise<URL> {
    if (this.settings.jwksUrl) return new URL(this.settings.jwksUrl);
    const base = this.settings.issuer.replace(/\/+$/, '');
    let response: Response;
    try {
      response = await fetch(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
    } catch (err) {
      throw new JwksUnavailable(`the OIDC discovery document of ${base} could not be read: ${(err as Error).message}`, { cause: err });
    }
    if (response.status === 404) return new URL(`${base}/.well-known/jwks.json`);
    if (!response.ok) throw new JwksUnavailable(`the OIDC discovery document of ${base} answered ${response.status}`);
    const document = (await response.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
    if (typeof document?.jwks_uri !== 'string') throw new JwksUnavailable(`the OIDC discovery document of ${base} names no jwks_uri`);
    // A document for another issuer would make us trust that issuer's keys.
    if (document.issuer !== this.settings.issuer) {
      throw new JwksUnavailable(`the OIDC discovery document of ${base} is for issuer ${JSON.stringify(document.issuer)}`);
    }
    return new URL(document.jwks_uri);
  }
}

function stringClaim(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === 'string' && value ? value : undefined;
}

/** `scope` is a space-separated string in OAuth 2 (RFC 8693); some issuers send an array. */
function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === 'string');
  return [];
}
