#!/usr/bin/env node
// Launcher: from a source checkout the CLI is TypeScript run by Node 24's type stripping; `npm run
// build` turns this file and the sources into plain JavaScript (out/bin/outpost.js importing
// ../src/cli/main.js, with source maps), which is what the installed CLI runs. npm scripts and npx
// put the project's pinned Node 24 first on PATH; a bare older `node` gets a clear message instead of a crash.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(`outpost: needs Node.js 24 or newer (this is ${process.version}). Run it through npx outpost or npm run, which use the project's pinned Node 24.\n`);
  process.exit(2);
}
// `outpost models list | head`: a closed pipe is the reader's choice, not an error to crash on.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
// Stack traces of the built CLI point into the TypeScript sources (the .js.map files beside it).
process.setSourceMapsEnabled(true);
// Node's compile cache keeps the type-stripped and compiled modules between runs (in the OS temp
// folder, per Node version): it roughly halves the CLI's start-up. NODE_DISABLE_COMPILE_CACHE=1
// turns it off; NODE_COMPILE_CACHE=<dir> puts it elsewhere. Worker threads inherit it through the env.
const { enableCompileCache } = await import('node:module');
const cache = enableCompileCache?.();
if (cache?.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;
const { main, mayEndNow } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// score, predict and models list end the process once their output is flushed, when nothing they
// started still runs (see mayEndNow): Node's own teardown is not needed after them.
if (mayEndNow()) {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
  if (mayEndNow()) process.exit();
}
