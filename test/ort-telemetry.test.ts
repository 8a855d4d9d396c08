// ONNX Runtime 1.30's Linux build writes a device id and an event store under
// ~/.cache/Microsoft/DeveloperTools/.onnxruntime and uploads them to Microsoft unless
// ORT_DISABLE_TELEMETRY is set. Outpost sets it (src/inference/node/ort-binding.ts) before ORT loads:
// installing a model (its smoke inference in a child process), scoring a file (inference worker)
// and predicting a record, with a HOME of its own and no ORT_DISABLE_TELEMETRY in the environment,
// leave nothing under that HOME.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from './helpers/cli.ts';
import { DEMO_PACKAGE, SAMPLE } from './helpers/sync-fleet.ts';

test('the CLI runs ONNX Runtime without its telemetry: nothing written under HOME', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-telemetry-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const home = path.join(root, 'data');
  // the operator's environment as a shell gives it: no ORT_DISABLE_TELEMETRY, HOME and the cache ours
  const env = { HOME: root, XDG_CACHE_HOME: undefined, ORT_DISABLE_TELEMETRY: undefined };
  const run = async (args: string[]) => {
    const r = await runCli(args, { home, env });
    assert.equal(r.code, 0, `outpost ${args.join(' ')}: ${r.stderr}`);
  };
  await run(['models', 'add', DEMO_PACKAGE, '--allow-unsigned']);
  await run(['score', SAMPLE, '--model', 'seattle-weather', '--out', path.join(root, 'scored.csv')]);
  await run(['predict', '--model', 'seattle-weather', '--input', '{"precipitation": 0, "temp_max": 12.8, "temp_min": 5, "wind": 4.7, "season": "winter"}']);
  assert.equal(fs.existsSync(path.join(root, '.cache')), false, `ONNX Runtime wrote ${fs.existsSync(path.join(root, '.cache')) ? fs.readdirSync(path.join(root, '.cache'), { recursive: true }).join(', ') : ''}`);
});
