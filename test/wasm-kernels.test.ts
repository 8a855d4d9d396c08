// Each hand-written WebAssembly kernel's committed base64 is what its .wat compiles to (where wabt's
// wat2wasm is installed), so a .wat edited without `node scripts/build-wasm.ts` is caught.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { KERNELS } from '../scripts/build-wasm.ts';

for (const { wat, constant } of KERNELS) {
  test(`the committed ${constant} is what ${wat} compiles to`, async (t) => {
    if (spawnSync('wat2wasm', ['--version']).status !== 0) { t.skip('wabt\'s wat2wasm is not installed (Debian: apt install wabt)'); return; }
    const built = execFileSync('wat2wasm', [new URL(`../src/${wat}`, import.meta.url).pathname, '--output=-']);
    const committed = (await import(new URL(`../src/${wat.replace(/\.wat$/, '-wasm.ts')}`, import.meta.url).href))[constant] as string;
    assert.equal(Buffer.from(committed, 'base64').toString('hex'), built.toString('hex'), 'rerun node scripts/build-wasm.ts');
  });
}
