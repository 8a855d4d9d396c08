// `npm run pack:cli`: the CLI as one npm tarball that installs with no network —
//   npm install -g ./outpost-<version>-<os>-<arch>.tgz --offline
// The package is staged from the build (scripts/build.ts: plain JavaScript) with every runtime
// dependency bundled (bundleDependencies), copied from node_modules as package-lock.json lists them
// (production entries only). Native binaries are per OS, so a tarball is for one platform (this
// one by default; `os`/`cpu` in its package.json make npm refuse it elsewhere) and carries only
// that platform's ONNX Runtime and better-sqlite3 binaries. onnxruntime-node's postinstall (which
// downloads the CUDA libraries from NuGet on Linux x64) is removed from the bundled copy: GPU
// support stays the explicit opt-in described in the README. Usage:
//   node scripts/pack.ts [--out DIR] [--cli-only]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, REPO } from './build.ts';

interface LockEntry { dev?: boolean; devOptional?: boolean; optional?: boolean; os?: string[]; cpu?: string[] }

/** package-lock paths (`node_modules/a`, `node_modules/a/node_modules/b`) of the runtime dependencies. */
export function productionPackages(lock: { packages: Record<string, LockEntry> }): { path: string; optional: boolean }[] {
  return Object.entries(lock.packages)
    .filter(([p, e]) => p.startsWith('node_modules/') && !e.dev && !e.devOptional)
    .map(([p, e]) => ({ path: p, optional: Boolean(e.optional) }));
}

/** Top-level folders of a package that nothing loads at run time. */
const DEV_ONLY_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'benchmark', 'benchmarks', 'bench', 'example', 'examples', '.github']);
/** Files nothing loads at run time: type declarations and TypeScript sources, source maps, markdown. */
const DEV_ONLY_FILE = /(\.d\.[cm]?ts|\.[cm]?ts|\.map|\.md)$/i;

const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
const SQLITE_PREBUILDS = 'node_modules/better-sqlite3/prebuilds';

/** Copy the runtime dependencies into <stage>/node_modules, only `platform`/`arch`'s native binaries. */
export function stageDependencies(stage: string, opts: { repo?: string; platform?: string; arch?: string } = {}): { packages: number } {
  const repo = opts.repo ?? REPO;
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const lock = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const missing: string[] = [];
  let n = 0;
  for (const { path: rel, optional } of productionPackages(lock)) {
    const from = path.join(repo, rel);
    if (!fs.existsSync(path.join(from, 'package.json'))) {
      if (!optional) missing.push(rel);
      continue;
    }
    fs.cpSync(fs.realpathSync(from), path.join(stage, rel), {
      recursive: true, dereference: true,
      // nested node_modules are entries of their own in the lock file; what only builds, tests or
      // documents a package stays out (fewer files: a faster install)
      filter: (src) => {
        const inner = path.relative(fs.realpathSync(from), src).split(path.sep);
        if (inner[0] === 'node_modules' || DEV_ONLY_DIRS.has(inner[0])) return false;
        if (rel === 'node_modules/better-sqlite3' && ['deps', 'src'].includes(inner[0])) return false;
        return !DEV_ONLY_FILE.test(src);
      },
    });
    n++;
  }
  if (missing.length) throw new Error(`runtime dependencies missing from node_modules (run npm ci): ${missing.join(', ')}`);
  // Only this platform's native binaries.
  const ort = path.join(stage, ORT_BIN);
  if (fs.existsSync(ort)) {
    for (const os of fs.readdirSync(ort)) {
      if (os !== platform) { fs.rmSync(path.join(ort, os), { recursive: true }); continue; }
      for (const a of fs.readdirSync(path.join(ort, os))) if (a !== arch) fs.rmSync(path.join(ort, os, a), { recursive: true });
    }
    if (!fs.existsSync(path.join(ort, platform, arch))) throw new Error(`onnxruntime-node has no binaries for ${platform}-${arch}`);
  }
  const prebuilds = path.join(stage, SQLITE_PREBUILDS);
  if (fs.existsSync(prebuilds)) {
    for (const f of fs.readdirSync(prebuilds)) if (f !== `${platform}-${arch}.node`) fs.rmSync(path.join(prebuilds, f));
  }
  // GPU libraries are an explicit opt-in, never an install-time download.
  const ortPkgFile = path.join(stage, 'node_modules/onnxruntime-node/package.json');
  if (fs.existsSync(ortPkgFile)) {
    const ortPkg = JSON.parse(fs.readFileSync(ortPkgFile, 'utf8')) as { scripts?: Record<string, string> };
    delete ortPkg.scripts?.postinstall;
    fs.writeFileSync(ortPkgFile, `${JSON.stringify(ortPkg, null, 2)}\n`);
  }
  return { packages: n };
}

/** Build, stage and `npm pack`: returns the tarball's path. */
export async function packCli(opts: { out: string; cliOnly?: boolean; npm?: string; platform?: string; arch?: string }): Promise<string> {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const stage = path.join(path.resolve(opts.out), 'stage');
  await build({ out: stage, cliOnly: opts.cliOnly });
  fs.rmSync(path.join(stage, 'electron'), { recursive: true }); // the desktop app ships as an installer (npm run dist)
  stageDependencies(stage, { platform, arch });
  const pkgFile = path.join(stage, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as Record<string, unknown>;
  delete pkg.main;
  pkg.files = ['bin/', 'src/', 'models/', 'renderer/'];
  pkg.bundleDependencies = Object.keys(pkg.dependencies as Record<string, string>);
  pkg.os = [platform];
  pkg.cpu = [arch];
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
  const [packed] = JSON.parse(execFileSync(opts.npm ?? 'npm', ['pack', '--json', '--pack-destination', path.resolve(opts.out)], {
    cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024,
  })) as { filename: string }[];
  const tarball = path.join(path.resolve(opts.out), `${pkg.name}-${pkg.version}-${platform}-${arch}.tgz`);
  fs.renameSync(path.join(path.resolve(opts.out), packed.filename), tarball);
  fs.rmSync(stage, { recursive: true, force: true });
  return tarball;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let values: { out?: string; 'cli-only'?: boolean };
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' }, 'cli-only': { type: 'boolean' } }, strict: true }));
  } catch (e) {
    process.stderr.write(`pack: ${(e as Error).message}\nusage: node scripts/pack.ts [--out DIR] [--cli-only]\n`);
    process.exit(2);
  }
  try {
    const tarball = await packCli({ out: values.out ?? path.join(REPO, 'dist'), cliOnly: values['cli-only'] });
    process.stdout.write(`${tarball} (${(fs.statSync(tarball).size / 2 ** 20).toFixed(1)} MiB)\n`);
  } catch (e) {
    process.stderr.write(`pack: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
