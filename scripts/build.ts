// `npm run build`: plain JavaScript for everything that ships, so neither the packaged app nor the
// installed CLI depends on Node's type stripping. esbuild transpiles file by file (no bundling):
// the built tree mirrors the sources (out/src/…, out/electron/…, out/bin/outpost.js), so every
// `new URL('./worker.ts', import.meta.url)` worker, child script and data path keeps working, and
// dependencies — native ones (better-sqlite3, onnxruntime-node and their .node files) included —
// stay external, resolved from node_modules at run time. Relative `.ts` specifiers become `.js`
// (same length: the source maps stay exact). Usage:
//   node scripts/build.ts [--out DIR] [--cli-only]
// --cli-only: the renderer's built UI (renderer/dist) is not required (the CLI test builds this way).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Relative module specifiers ending in .ts inside string literals ('./a.ts', "../b/c.ts"). */
const RELATIVE_TS = /(['"`])(\.\.?\/[^'"`\n]*?)\.ts\1/g;

/** The rewrite applied to each built file: relative `.ts` specifiers become `.js` (same length). */
export function rewriteSpecifiers(code: string): string {
  return code.replace(RELATIVE_TS, (_m, q: string, p: string) => `${q}${p}.js${q}`);
}

/** Every source file that ships: the core, the Electron hosts, the CLI launcher (tests excluded). */
export function shippedSources(repo = REPO): string[] {
  const files = [
    ...fs.globSync('src/**/*.ts', { cwd: repo }),
    ...fs.globSync('electron/*.ts', { cwd: repo }),
    'bin/outpost.js',
  ];
  return files.filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).sort();
}

/** The package.json the built tree carries: ESM, the CLI's bin, the Electron entry, the runtime dependencies. */
export function builtPackageJson(root: Record<string, unknown>): Record<string, unknown> {
  return {
    name: root.name,
    version: root.version,
    description: root.description,
    license: root.license,
    type: 'module',
    engines: root.engines,
    main: 'electron/main.js',
    bin: { outpost: 'bin/outpost.js' },
    dependencies: root.dependencies,
  };
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith('.test.ts') });
}

export async function build(opts: { out: string; cliOnly?: boolean; repo?: string }): Promise<{ files: number; out: string }> {
  const repo = opts.repo ?? REPO;
  const out = path.resolve(opts.out);
  const rendererDist = path.join(repo, 'renderer', 'dist');
  if (!opts.cliOnly && !fs.existsSync(path.join(rendererDist, 'index.html'))) {
    throw new Error(`the UI is not built (${rendererDist}); run \`npm run build:renderer\` first (or pass --cli-only)`);
  }
  const { build: esbuild } = await import('esbuild');
  fs.rmSync(out, { recursive: true, force: true });
  const entries = shippedSources(repo);
  const result = await esbuild({
    absWorkingDir: repo,
    entryPoints: entries,
    outdir: out,
    outbase: repo,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    sourcemap: 'linked',
    sourcesContent: true,
    charset: 'utf8',
    write: false,
    logLevel: 'warning',
  });
  const leftovers: string[] = [];
  for (const f of result.outputFiles) {
    fs.mkdirSync(path.dirname(f.path), { recursive: true });
    if (!f.path.endsWith('.js')) { fs.writeFileSync(f.path, f.contents); continue; }
    const code = rewriteSpecifiers(f.text);
    // A .ts reference left in a built file means something loads TypeScript at run time: refuse.
    for (const m of code.matchAll(/(?:from\s*|import\(\s*|new URL\(\s*)(['"`])([^'"`\n]+\.ts)\1/g)) leftovers.push(`${path.relative(out, f.path)}: ${m[2]}`);
    fs.writeFileSync(f.path, code);
  }
  if (leftovers.length) throw new Error(`built code still loads TypeScript:\n  ${leftovers.join('\n  ')}`);
  // Plain files that ship as they are: the sandboxed preload (already CommonJS JavaScript), the
  // bundled demo model (outpost demo), the built UI.
  fs.copyFileSync(path.join(repo, 'electron', 'preload.cjs'), path.join(out, 'electron', 'preload.cjs'));
  copyTree(path.join(repo, 'models', 'demo'), path.join(out, 'models', 'demo'));
  if (fs.existsSync(rendererDist)) copyTree(rendererDist, path.join(out, 'renderer', 'dist'));
  const rootPkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(builtPackageJson(rootPkg), null, 2)}\n`);
  fs.chmodSync(path.join(out, 'bin', 'outpost.js'), 0o755);
  return { files: entries.length, out };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let values: { out?: string; 'cli-only'?: boolean };
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' }, 'cli-only': { type: 'boolean' } }, strict: true }));
  } catch (e) {
    process.stderr.write(`build: ${(e as Error).message}\nusage: node scripts/build.ts [--out DIR] [--cli-only]\n`);
    process.exit(2);
  }
  try {
    const r = await build({ out: values.out ?? path.join(REPO, 'out'), cliOnly: values['cli-only'] });
    process.stdout.write(`built ${r.files} files into ${r.out}\n`);
  } catch (e) {
    process.stderr.write(`build: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
