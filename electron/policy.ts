// Security policy of the desktop shell, pure so it is unit-tested without Electron: which URLs are
// the app's own, which IPC senders are trusted, how app:// URLs map to files, and the CSP.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { resolveHome } from '../src/store/node/home.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'outpost';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** No remote content, no inline code; the renderer reaches the core only through the preload. */
export const APP_CSP = [
  "default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'",
].join('; ');

/** True only for URLs of the app's own origin (app://outpost/…); anything unparsable is not. */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** What a sender frame looks like to the checks (Electron's WebFrameMain has these). */
export interface FrameLike { url: string; parent?: FrameLike | null; detached?: boolean }

/**
 * An IPC sender is trusted when it is a live top-level frame showing app content: not a subframe
 * (an embedded page must not reach the core), not a frame that navigated away.
 */
export function isTrustedSender(frame: FrameLike | null | undefined): boolean {
  if (!frame || frame.detached) return false;
  if (frame.parent) return false;
  return isAppUrl(frame.url);
}

/** Navigation inside the window is allowed only within the app (the UI routes by #hash anyway). */
export const navigationAllowed = (url: string): boolean => isAppUrl(url);

/**
 * Map an app:// request URL to a file inside the built renderer; null for anything outside it
 * (other hosts, traversal, encoded separators).
 */
export function resolveAppFile(distDir: string, requestUrl: string): string | null {
  if (!isAppUrl(requestUrl)) return null;
  const u = new URL(requestUrl);
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) return null;
  if (rel === '/' || rel === '') rel = '/index.html';
  const root = path.resolve(distDir);
  const file = path.resolve(root, `.${rel}`);
  return file.startsWith(root + path.sep) ? file : null;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.json': 'application/json',
  '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
};
export const mimeOf = (file: string): string => MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/**
 * The data folder the app uses: `--home DIR` (or `--home=DIR`) on its command line, else
 * OUTPOST_HOME, else the OS's app-data folder — the CLI's rule, so both open the same store.
 * Chromium's own switches may sit anywhere in argv; a `--home` with no value is refused.
 */
export function homeFromArgv(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  let flag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--home') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error('--home needs a folder: outpost --home DIR');
      flag = v;
      i++;
    } else if (a.startsWith('--home=')) {
      flag = a.slice('--home='.length);
      if (!flag) throw new Error('--home needs a folder: outpost --home=DIR');
    }
  }
  return resolveHome(flag, env);
}

/**
 * Chromium's profile (cookies, caches, the single-instance lock) per data folder, outside it: one
 * window per data folder, while two data folders can be open side by side.
 */
export function profileDirFor(appData: string, home: string): string {
  return path.join(appData, 'Outpost', 'profiles', createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 16));
}
