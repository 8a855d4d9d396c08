// Signed device requests (docs/SYNC-PROTOCOL.md): the device's Ed25519 key signs one text that
// names the method, the path, the device, the body's digest, the time and a nonce. The same
// components RFC 9421 would cover, in a fixed order with no parameters to negotiate. Pure.

export const SIG_HEADERS = {
  device: 'x-outpost-device',
  time: 'x-outpost-time',
  nonce: 'x-outpost-nonce',
  signature: 'x-outpost-signature',
  digest: 'content-digest',
} as const;

/** A request is refused when its time is further than this from the hub's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** Nonces are remembered this long (longer than the window of times accepted, so a replay is always caught). */
export const NONCE_TTL_SECONDS = 2 * MAX_CLOCK_SKEW_SECONDS + 60;

export interface SignedParts {
  method: string;
  /** path and query as sent (e.g. `/api/v1/sync/items`) */
  path: string;
  device: string;
  /** `sha-256=:<base64>:` (RFC 9530) */
  digest: string;
  /** unix seconds */
  time: number;
  nonce: string;
}

/** The exact bytes (as text) that are signed. */
export const signatureBase = (p: SignedParts): string =>
  ['outpost-request-v1', p.method.toUpperCase(), p.path, p.device, p.digest, String(p.time), p.nonce].join('\n');

export const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;
export const DEVICE_ID_RE = /^dev_[a-z0-9]{8,40}$/;
export const DIGEST_RE = /^sha-256=:([A-Za-z0-9+/]{43}=):$/;

/** Enrollment codes: 16 Crockford base32 characters (80 bits), shown as 4 groups. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export function normalizeCode(code: string): string | undefined {
  const c = code.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return /^[0-9A-HJKMNP-TV-Z]{16}$/.test(c) ? c : undefined;
}
export const formatCode = (c: string): string => c.match(/.{4}/g)!.join('-');
