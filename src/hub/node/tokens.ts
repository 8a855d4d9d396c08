// API tokens: random, shown once, stored only as a sha256 (a database leak yields no usable token).
import crypto from 'node:crypto';

export const newToken = (prefix: 'adm' | 'pub'): string => `op${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
export const hashToken = (token: string): string => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

/** Constant-time comparison of a presented token against a stored hash. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
