// Where the built UI lives and how to get it: a packaged app ships renderer/dist; a source checkout
// builds it with Vite on first use (and again when the renderer sources are newer than the build).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { build as viteBuild } from 'vite';
import { OutpostError } from '../../common/errors.ts';

export const RENDERER_DIR = fileURLToPath(new URL('../../../renderer/', import.meta.url));
export const RENDERER_DIST = path.join(RENDERER_DIR, 'dist');

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of fs.readdirSync(p)) t = Math.max(t, newestMtime(path.join(p, e)));
  return t;
}

/** The build's pages: the workstation app and the hub console (two entries of one Vite build). */
export const RENDERER_PAGES = ['index.html', 'hub.html'] as const;

/** True when every page of dist/ exists and no renderer source is newer. */
export function rendererIsFresh(dist = RENDERER_DIST): boolean {
  const built = RENDERER_PAGES.map((p) => fs.statSync(path.join(dist, p), { throwIfNoEntry: false }));
  if (built.some((b) => !b)) return false;
  if (!fs.existsSync(path.join(RENDERER_DIR, 'src'))) return true; // packaged: no sources to compare
  const sources = Math.max(...['src', ...RENDERER_PAGES, 'vite.config.ts'].map((f) => newestMtime(path.join(RENDERER_DIR, f))));
  return sources <= Math.min(...built.map((b) => b!.mtimeMs));
}

/**
 * Make sure the built UI exists; builds it when missing or stale. The build goes to a temp folder
 * renamed into place, so a server reading the old build (or a second builder) never sees half a UI.
 */
export async function ensureRenderer(log: (line: string) => void = () => {}): Promise<string> {
  if (rendererIsFresh()) return RENDERER_DIST;
  let build: typeof viteBuild;
  try {
    ({ build } = await import('vite'));
  } catch {
    throw new OutpostError('not-found', `the UI is not built (${RENDERER_DIST}) and Vite is not installed to build it; run \`npm run build:renderer\``);
  }
  log('Building the UI (renderer/dist)…');
  const tmp = `${RENDERER_DIST}.tmp-${process.pid}-${Date.now()}`;
  try {
    await build({ configFile: path.join(RENDERER_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    fs.rmSync(RENDERER_DIST, { recursive: true, force: true });
    fs.renameSync(tmp, RENDERER_DIST);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (rendererIsFresh()) return RENDERER_DIST; // another process finished the same build first
    throw new OutpostError('store', `building the UI failed: ${(e as Error).message}`);
  }
  return RENDERER_DIST;
}
