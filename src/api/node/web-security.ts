// What every browser-facing Outpost server shares: the strict CSP and security headers, cookie
// reading that ignores malformed cookies, constant-time secret comparison, the Host (DNS
// rebinding) and Origin (cross-site write) checks, and confinement of static files to the built UI.
// `outpost serve` (http.ts, node:http) and the hub console (src/hub/node/console.ts, Fastify) both
// use these, so the two doors have one lock design.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { safeDecode } from '../common/request-target.ts';

export const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'", "connect-src 'self'",
  "manifest-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
};

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json', '.webmanifest': 'application/manifest+json',
};

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** The request's cookies; a cookie with malformed percent-encoding is no cookie (never an exception). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    const value = i > 0 ? safeDecode(part.slice(i + 1).trim()) : undefined;
    if (value !== undefined) m.set(part.slice(0, i).trim(), value);
  }
  return m;
}

/**
 * DNS rebinding: a page on evil.example that resolves to this server sends its own Host header.
 * Only the names this server is known by are accepted (compared case-insensitively).
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  const h = (host ?? '').toLowerCase();
  return h !== '' && allowed.some((a) => a.toLowerCase() === h);
}

/** The Host names a server listening on `host:port` answers to by default. */
export function defaultHosts(host: string, port: number): string[] {
  const loopback = /^(127(?:\.\d{1,3}){3}|::1|localhost)$/i.test(host);
  if (loopback) return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (host === '0.0.0.0' || host === '::') return [`127.0.0.1:${port}`, `localhost:${port}`];
  return [`${host.includes(':') ? `[${host}]` : host}:${port}`];
}

/** Cross-site writes: browsers send Origin on POST/PUT/DELETE; it must be this server's own. */
export function originAllowed(origin: string | undefined, host: string | undefined, scheme: 'http' | 'https' = 'http'): boolean {
  return origin === undefined || origin === `${scheme}://${host}`;
}

/**
 * The built UI file a decoded request path names, confined to `root` (no "..", no symlink games
 * outside it): the file, its content type and cache policy — or undefined (answer 404).
 */
export function staticFile(root: string, rel: string): { file: string; type: string; cache: string } | undefined {
  const base = path.resolve(root);
  const file = path.resolve(base, rel.replace(/^\/+/, ''));
  if (!file.startsWith(base + path.sep) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
  const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  // Hashed assets never change; pages always revalidate so a new build is picked up.
  const cache = path.relative(base, file).startsWith(`assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  return { file, type, cache };
}
