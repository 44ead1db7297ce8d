import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Compares secrets in constant time (hashing first, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** HMAC-SHA256 of `message`, base64url (cookie- and form-safe). */
export function hmac(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64url');
}

/** Compares two MACs in constant time; a different length is simply unequal. */
export function sameMac(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
