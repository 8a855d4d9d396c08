// Training from the app through the UI contract, over both transports (HTTP + SSE, and the Electron
// IPC bridge) on a real store and real data (vega-datasets' Seattle weather): the file's columns
// under the allowedFolders rules, a run whose metrics and model bytes equal `outpost train --json`
// for the same data and seed, the serving thread answering while a run trains, cancel (nothing
// written), a bad target (failed, named), and install as the next local version.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ApiEvent, FileColumns, ModelDetail, ModelSummary, TrainRun, TrainRunDetail } from '../src/api/common/contract.ts';
import { httpTransport, ipcTransport, ok, type Transport } from './helpers/app-harness.ts';
import { lastJson, REPO, runMain } from './helpers/cli.ts';
import { tempDir } from './helpers/packages.ts';

const SEATTLE = path.join(REPO, 'node_modules/vega-datasets/data/seattle-weather.csv');

/** Every file under `dir` (relative), for "nothing was written" checks; the SQLite files excluded. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!/^store\.db/.test(e.name)) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

for (const make of [httpTransport, ipcTransport]) {
  describe(`training over ${make === httpTransport ? 'HTTP' : 'IPC'}`, () => {
    let t: Transport;
    let home: string;
    let files: string;
    let csv: string;
    const finished = (id: string) => (e: ApiEvent) => e.type === 'train-finished' && e.run.id === id;
    const finishedRun = async (id: string): Promise<TrainRun> => ((await t.waitFor(finished(id), `train-finished of ${id}`)) as { run: TrainRun }).run;

    before(async () => {
      home = tempDir('outpost-app-train-');
      files = tempDir('outpost-app-train-files-');
      csv = path.join(files, 'seattle-weather.csv');
      fs.copyFileSync(SEATTLE, csv);
      t = await make(home);
      await ok(t, 'settings.update', { patch: { allowedFolders: [files] } });
    });
    after(async () => {
      await t?.close();
      fs.rmSync(home, { recursive: true, force: true });
      fs.rmSync(files, { recursive: true, force: true });
    });

    test('files.columns lists the columns with guessed kinds, and only under the allowed folders', async () => {
      const c = await ok<FileColumns>(t, 'files.columns', { path: csv });
      assert.deepEqual(c.columns.map((x) => [x.name, x.kind]), [['date', 'time'], ['precipitation', 'number'], ['temp_max', 'number'], ['temp_min', 'number'], ['wind', 'number'], ['weather', 'text']]);
      assert.equal(c.sampled, 1461);
      assert.equal(c.columns.find((x) => x.name === 'weather')!.distinct, 5);
      const outside = await t.call('files.columns', { path: SEATTLE });
      assert.ok(!outside.ok && outside.error.code === 'usage' && /allowed|folder/i.test(outside.error.message), JSON.stringify(outside));
      const missing = await t.call('files.columns', { path: path.join(files, 'nope.csv') });
      assert.ok(!missing.ok, JSON.stringify(missing));
    });

    test('a run equals `outpost train --json` for the same data and seed, and the serving thread answers meanwhile', async () => {
      const started = await ok<TrainRun>(t, 'train.start', {
        input: csv, name: 'wx', target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind'], algo: 'logreg',
        split: { kind: 'time', column: 'date', validFrom: '2014-01-01' }, seed: 7,
      });
      assert.equal(started.status, 'running');
      // the serving thread is free while the worker trains: this call is answered before the run ends
      const listed = await ok<TrainRun[]>(t, 'train.list');
      assert.equal(listed[0].id, started.id);
      const run = await finishedRun(started.id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.ok(run.curves.logreg?.length > 0 && run.step?.unit === 'epoch', 'epochs were reported');
      assert.ok(run.candidates.length === 1 && run.candidates[0].algo === 'logreg');

      const out = path.join(files, 'cli-wx');
      const cli = await runMain(['--json', 'train', csv, '--target', 'weather', '--name', 'wx', '--features', 'precipitation,temp_max,temp_min,wind', '--algo', 'logreg', '--time-col', 'date', '--valid-from', '2014-01-01', '--seed', '7', '--out', out]);
      assert.equal(cli.code, 0, cli.err);
      const r = lastJson(cli.out) as { metrics: Record<string, number>; modelSha256: string; trainRows: number; validRows: number; dataSha256: string };
      assert.deepEqual(run.result!.metrics, r.metrics);
      assert.equal(run.result!.modelSha256, r.modelSha256, 'the same model.onnx bytes');
      assert.deepEqual([run.result!.trainRows, run.result!.validRows, run.result!.dataSha256], [r.trainRows, r.validRows, r.dataSha256]);
      const detail = await ok<TrainRunDetail>(t, 'train.get', { id: run.id });
      assert.equal(detail.card!.lineage?.recipe && (detail.card!.lineage.recipe as { seed: number }).seed, 7);
      assert.deepEqual(filesUnder(path.join(home, 'models')), [], 'nothing installed before install');
    });

    test('cancel stops a run and writes nothing; a cancelled run cannot be installed', async () => {
      // a larger file (the weather years repeated) and every algorithm: far more work than one step
      const big = path.join(files, 'weather-x40.csv');
      const lines = fs.readFileSync(SEATTLE, 'utf8').trimEnd().split('\n');
      fs.writeFileSync(big, [lines[0], ...Array.from({ length: 40 }, () => lines.slice(1)).flat()].join('\n') + '\n');
      const before = filesUnder(home);
      const started = await ok<TrainRun>(t, 'train.start', { input: big, name: 'wx-big', target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind'], algo: 'auto', split: { kind: 'fraction', fraction: 0.2 } });
      const first = await t.waitFor((e) => (e.type === 'train-progress' && e.run.id === started.id && e.run.step !== null) || finished(started.id)(e), 'a training step');
      assert.equal(first.type, 'train-progress', `the run ended before a step: ${JSON.stringify((first as { run: TrainRun }).run.error)}`);
      assert.deepEqual(await ok(t, 'train.cancel', { id: started.id }), { cancelled: true });
      const run = await finishedRun(started.id);
      assert.equal(run.status, 'cancelled');
      assert.equal(run.error?.code, 'cancelled');
      assert.equal(run.result, null);
      assert.deepEqual(filesUnder(home), before, 'nothing written in the data folder');
      const install = await t.call('train.install', { id: started.id });
      assert.ok(!install.ok && install.error.code === 'conflict' && /cancelled/.test(install.error.message), JSON.stringify(install));
      assert.deepEqual(await ok(t, 'train.cancel', { id: started.id }), { cancelled: false }, 'nothing left to cancel');
    });

    test('bad requests: an unknown target fails the run naming the column; a bad name or split is refused before a run exists', async () => {
      const started = await ok<TrainRun>(t, 'train.start', { input: csv, name: 'bad', target: 'no_such_column' });
      const run = await finishedRun(started.id);
      assert.equal(run.status, 'failed');
      assert.ok(run.error && /no_such_column/.test(run.error.message), JSON.stringify(run.error));
      const badName = await t.call('train.start', { input: csv, name: 'Bad Name', target: 'weather' });
      assert.ok(!badName.ok && badName.error.code === 'usage' && /name/.test(badName.error.message), JSON.stringify(badName));
      const badSplit = await t.call('train.start', { input: csv, name: 'x', target: 'weather', split: { kind: 'fraction', fraction: 1.5 } });
      assert.ok(!badSplit.ok && badSplit.error.code === 'usage' && /fraction/.test(badSplit.error.message), JSON.stringify(badSplit));
      const outside = await t.call('train.start', { input: SEATTLE, name: 'x', target: 'weather' });
      assert.ok(!outside.ok && outside.error.code === 'usage', JSON.stringify(outside));
      const unknown = await t.call('train.get', { id: 't-000000000000' });
      assert.ok(!unknown.ok && unknown.error.code === 'not-found', JSON.stringify(unknown));
    });

    test('install makes a completed run the next local version of its name (once)', async () => {
      const runs = await ok<TrainRun[]>(t, 'train.list');
      const first = runs.find((r) => r.name === 'wx' && r.status === 'completed')!;
      const a = await ok<{ run: TrainRun; model: ModelSummary }>(t, 'train.install', { id: first.id });
      assert.deepEqual([a.model.name, a.model.activeVersion, a.model.source, a.run.installed], ['wx', 1, 'local-unsigned', { name: 'wx', version: 1 }]);
      const again = await t.call('train.install', { id: first.id });
      assert.ok(!again.ok && again.error.code === 'conflict' && /already installed as wx@1/.test(again.error.message), JSON.stringify(again));
      // a second run of the same name (another seed) becomes v2 and active
      const second = await ok<TrainRun>(t, 'train.start', { input: csv, name: 'wx', target: 'weather', features: ['precipitation', 'temp_max', 'temp_min', 'wind'], algo: 'gbdt', seed: 3 });
      assert.equal((await finishedRun(second.id)).status, 'completed');
      const b = await ok<{ run: TrainRun; model: ModelSummary }>(t, 'train.install', { id: second.id });
      assert.deepEqual([b.model.activeVersion, b.model.versions], [2, [1, 2]]);
      const shown = await ok<ModelDetail>(t, 'models.show', { name: 'wx' });
      assert.equal(shown.versions[0].card.version, 2);
      assert.equal(shown.versions[0].modelSha256, b.run.result!.modelSha256, 'the installed bytes are the run\'s');
      assert.match(shown.versions[0].origin ?? '', new RegExp(`run ${second.id}`));
      assert.deepEqual(filesUnder(path.join(home, 'models')).sort(), ['wx/1/card.json', 'wx/1/model.onnx', 'wx/2/card.json', 'wx/2/model.onnx'], 'no staging folder left');
    });
  });
}
