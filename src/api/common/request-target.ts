// The request target of an HTTP request (RFC 9112 §3.2), read defensively: anything a browser, curl
// or an attacker can put on the request line either becomes a decoded path plus query, or a 4xx
// answer — never an exception. Pure.

/** Longer request targets are answered 414; no route of ours comes close. */
export const MAX_TARGET_LENGTH = 4096;

export type RequestTarget =
  | { ok: true; /** percent-decoded path, always starting with "/" */ path: string; query: URLSearchParams }
  | { ok: false; status: 400 | 414; message: string };

export function parseRequestTarget(raw: string | undefined): RequestTarget {
  if (!raw || raw[0] !== '/') return { ok: false, status: 400, message: 'the request target must be a path starting with "/"' };
  if (raw.length > MAX_TARGET_LENGTH) return { ok: false, status: 414, message: `the URL is longer than ${MAX_TARGET_LENGTH} characters` };
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const path = safeDecode(rawPath);
  if (path === undefined) return { ok: false, status: 400, message: 'the URL path has malformed percent-encoding' };
  if (path.includes('\0')) return { ok: false, status: 400, message: 'the URL path contains a NUL character' };
  // URLSearchParams decodes leniently (malformed escapes stay as text): it never throws.
  return { ok: true, path, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** decodeURIComponent, or undefined where the text is not valid percent-encoded UTF-8. */
export function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
