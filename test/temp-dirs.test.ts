// The shared temp-folder helper (test/helpers/packages.ts tempDir, also behind hub-fixtures' tmpDir
// and the bench's tempHome): a hub initialised right in such a folder puts its default offline keys
// beside it (`<dir>.offline-keys`), outside what the test removes; the helper removes them at exit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';

test('offline keys initHub puts beside a temp folder are gone when the process exits', () => {
  const script = `
    import fs from 'node:fs';
    import { tempDir } from './test/helpers/packages.ts';
    import { initHub } from './src/hub/node/repository.ts';
    const dir = tempDir('outpost-temp-dirs-');
    await initHub(dir);
    if (!fs.existsSync(dir + '.offline-keys')) throw new Error('initHub made no default offline keys folder');
    fs.rmSync(dir, { recursive: true, force: true }); // what every test does with its own folder
    console.log(dir);`;
  const dir = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
  assert.match(dir, /outpost-temp-dirs-/);
  assert.equal(fs.existsSync(dir), false);
  assert.equal(fs.existsSync(`${dir}.offline-keys`), false, 'the offline keys beside it were removed at exit');
});
