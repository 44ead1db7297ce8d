import { timingSafeEqual } from 'node:crypto';
import { sha256 } from '../credentials.js';
import { LEGACY_TOKEN_NAME, type NamedToken } from '../dashboard-env.js';
import { ALL_SCOPES, type Principal, type Scope } from './scopes.js';

interface Entry {
  name: string;
  scopes: readonly Scope[];
  digest: Buffer;
}

/**
 * API_TOKEN (every scope) and the named API_TOKENS, known only by their SHA-256. A presented
 * token is hashed and compared with every entry in constant time, without stopping at a match.
 */
export class StaticTokens {
  private readonly entries: Entry[];

  constructor(apiToken: string | undefined, named: readonly NamedToken[] = []) {
    this.entries = named.map((t) => ({ name: t.name, scopes: t.scopes, digest: Buffer.from(t.sha256, 'hex') }));
    if (apiToken) this.entries.unshift({ name: LEGACY_TOKEN_NAME, scopes: ALL_SCOPES, digest: sha256(apiToken) });
  }

  get configured(): boolean {
    return this.entries.length > 0;
  }

  verify(token: string): Principal | undefined {
    const digest = sha256(token);
    let match: Entry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(digest, entry.digest) && !match) match = entry;
    }
    return match ? { name: match.name, scopes: new Set(match.scopes), via: 'token' } : undefined;
  }
}
