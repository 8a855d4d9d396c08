// When `outpost serve` rebuilds the UI: the freshness check must see every file the build is made
// from, including the app's pure modules the renderer imports (a changed contract or reader left
// a stale UI when only renderer/src was compared).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { RENDERER_DIR, RENDERER_PAGES, rendererIsFresh, rendererSources } from '../src/api/node/renderer-build.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-renderer-build-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Every source file the renderer's pages reach through relative imports (packages left out). */
function reachedFiles(): Set<string> {
  const seen = new Set<string>();
  const queue = [path.join(RENDERER_DIR, 'src')].flatMap(function walk(p: string): string[] {
    return fs.statSync(p).isDirectory() ? fs.readdirSync(p).flatMap((e) => walk(path.join(p, e))) : /\.tsx?$/.test(p) ? [p] : [];
  });
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), spec);
      if (/\.tsx?$/.test(target) && fs.existsSync(target)) queue.push(target);
    }
  }
  return seen;
}

test('the freshness check covers every source file the renderer reaches, its own and the app\'s pure modules', () => {
  const roots = rendererSources();
  const files = [...reachedFiles()];
  const outside = files.filter((f) => !roots.some((r) => f === r || f.startsWith(r + path.sep)));
  assert.deepEqual(outside, [], 'files the UI is built from that a change to would not rebuild it');
  assert.ok(files.some((f) => f.includes(`${path.sep}src${path.sep}api${path.sep}common${path.sep}`)), 'the renderer does import the app\'s modules');
});

test('a build is fresh only when every page exists and no source is newer than the oldest page', () => {
  const dist = path.join(root, 'dist');
  const src = path.join(root, 'src', 'io', 'common');
  fs.mkdirSync(dist, { recursive: true });
  fs.mkdirSync(src, { recursive: true });
  const source = path.join(src, 'reader.ts');
  fs.writeFileSync(source, 'export {};\n');
  const at = (file: string, seconds: number) => fs.utimesSync(file, seconds, seconds);
  at(source, 1_000);
  assert.equal(rendererIsFresh(dist, [path.join(root, 'src')]), false, 'no pages');
  for (const page of RENDERER_PAGES) { fs.writeFileSync(path.join(dist, page), '<!doctype html>'); at(path.join(dist, page), 2_000); }
  at(src, 1_000); at(path.dirname(src), 1_000); at(path.join(root, 'src'), 1_000);
  assert.equal(rendererIsFresh(dist, [path.join(root, 'src')]), true);
  at(source, 3_000); // a module the renderer imports changed after the build
  assert.equal(rendererIsFresh(dist, [path.join(root, 'src')]), false);
  at(path.join(dist, RENDERER_PAGES[0]), 4_000);
  assert.equal(rendererIsFresh(dist, [path.join(root, 'src')]), false, 'the oldest page decides');
  assert.equal(rendererIsFresh(dist, []), true, 'a packaged app has no sources to compare');
});
