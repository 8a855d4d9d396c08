// The request target of an HTTP request (RFC 9112 §3.2), read defensively: anything a browser, curl
// or an attacker can put on the request line either becomes a decoded path plus query, or a 4xx
// answer — never an exception. Pure.

/** Longer request targets are answered 414; no route of ours comes close. */
export const MAX_TARGET_LENGTH = 4096;

export type RequestTarget =
  | { ok: true; /** percent-decoded path, always starting with "/" */ path: string; query: URLSearchParams }
  | { ok: false; status: 400 | 414; message: string };

/**
 * `refuseEncodedSlash`: a server that routes on the decoded path (`outpost serve`) refuses %2F, so an
 * encoded slash can never change which route runs (`/api/call%2fjobs.list` would run jobs.list). The
 * hub's router matches the raw path and keeps %2F inside a parameter, whose pattern refuses it.
 */
export function parseRequestTarget(raw: string | undefined, opts: { refuseEncodedSlash?: boolean } = {}): RequestTarget {
  if (!raw || raw[0] !== '/') return { ok: false, status: 400, message: 'the request target must be a path starting with "/"' };
  if (raw.length > MAX_TARGET_LENGTH) return { ok: false, status: 414, message: `the URL is longer than ${MAX_TARGET_LENGTH} characters` };
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  if (opts.refuseEncodedSlash && /%2f/i.test(rawPath)) return { ok: false, status: 400, message: 'the URL path has an encoded slash (%2F): a part of the path cannot contain "/"' };
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
