// Peak memory while scoring a very large CSV (default 5 GB): the reader streams, so RSS must stay
// bounded (target < 500 MB). The scoring runs in a child process (the real CLI); its resident set
// is sampled from /proc every 100 ms.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { installPackage } from '../../src/store/node/models.ts';
import { openStore } from '../../src/store/node/store.ts';
import { buildSyntheticMlp } from '../../src/train/common/index.ts';
import { DATA_DIR, floatCsv, REPO, tempHome, waitSamplingRss } from '../lib.ts';

function bigFile(targetBytes: number): string {
  const seed = floatCsv(1_000_000, 20);
  const file = path.join(DATA_DIR, `floats-big-${targetBytes}.csv`);
  if (fs.existsSync(file) && fs.statSync(file).size >= targetBytes) return file;
  const body = fs.readFileSync(seed);
  const headerEnd = body.indexOf(10) + 1;
  const fd = fs.openSync(`${file}.partial`, 'w');
  fs.writeSync(fd, body.subarray(0, headerEnd));
  let size = headerEnd;
  while (size < targetBytes) size += fs.writeSync(fd, body.subarray(headerEnd));
  fs.closeSync(fd);
  fs.renameSync(`${file}.partial`, file);
  return file;
}

export async function run(opts: { bytes: number }) {
  const file = bigFile(opts.bytes);
  const home = tempHome();
  try {
    const store = openStore(home);
    const { bytes, card } = buildSyntheticMlp({ features: 20, hidden: 16, classes: 2, seed: 1 });
    const pkg = path.join(home, 'pkg');
    fs.mkdirSync(pkg);
    fs.writeFileSync(path.join(pkg, 'model.onnx'), bytes);
    fs.writeFileSync(path.join(pkg, 'card.json'), JSON.stringify({ ...card, name: 'bench-mlp' }));
    installPackage(store, pkg, { source: 'local', allowUnsigned: true });
    store.close();
    const out = path.join(home, 'big.scored.csv');
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(REPO, 'bin/outpost.js'), '--home', home, 'score', file, '--model', 'bench-mlp', '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const { code, peakBytes: peak } = await waitSamplingRss(child, 100);
    if (code !== 0) throw new Error(`scoring exited with ${code}`);
    const seconds = (performance.now() - started) / 1000;
    const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1)) as { job: { rowsScored: number } };
    return {
      fileBytes: fs.statSync(file).size,
      rows: result.job.rowsScored,
      seconds,
      rowsPerSecond: result.job.rowsScored / seconds,
      peakRssMB: peak / 2 ** 20,
      targets: { peakRssUnder500MB: { target: 500, met: peak / 2 ** 20 < 500 } },
    };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}
