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

const SRC_DIR = path.join(RENDERER_DIR, '..', 'src');

/**
 * What the build is made from: the renderer's own sources, pages and Vite config, and the pure
 * modules it imports from the app's sources — by the layering rule only `common/` folders
 * (src/common and every src/<area>/common), so a change to a shared contract or reader rebuilds
 * the UI too. Empty in a packaged app (no sources to compare).
 */
export function rendererSources(): string[] {
  if (!fs.existsSync(path.join(RENDERER_DIR, 'src'))) return [];
  const areas = fs.readdirSync(SRC_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(SRC_DIR, e.name, 'common'));
  return [...['src', ...RENDERER_PAGES, 'vite.config.ts'].map((f) => path.join(RENDERER_DIR, f)), path.join(SRC_DIR, 'common'), ...areas.filter((d) => fs.existsSync(d))];
}

/** True when every page of dist/ exists and no source of the build is newer. */
export function rendererIsFresh(dist = RENDERER_DIST, sources = rendererSources()): boolean {
  const built = RENDERER_PAGES.map((p) => fs.statSync(path.join(dist, p), { throwIfNoEntry: false }));
  if (built.some((b) => !b)) return false;
  if (sources.length === 0) return true; // packaged
  return Math.max(...sources.map(newestMtime)) <= Math.min(...built.map((b) => b!.mtimeMs));
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
