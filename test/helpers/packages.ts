// Small real model packages for tests: a 3-input classifier (two floats, one category) built with
// the project's ONNX encoder, written as a package folder (model.onnx + card.json).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeModel } from '../../src/onnx/common/onnx.ts';
import { CARD_FORMAT, type Card } from '../../src/package/common/card.ts';

const made: string[] = [];
/**
 * A new folder under the system temp folder. Tests remove it themselves; what a hub initialised
 * right in it puts beside it (initHub's default offline keys, `<dir>.offline-keys`) goes when the
 * process exits. Every test and bench temp folder comes from here.
 */
export function tempDir(prefix = 'outpost-test-'): string {
  // removed when the test file's process ends (a test that removes its own first loses nothing);
  // a hub made in one keeps its offline keys beside it
  if (!made.length) process.once('exit', () => { for (const d of made) for (const p of [d, `${d}.offline-keys`]) fs.rmSync(p, { recursive: true, force: true }); });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function tinyCard(overrides: Partial<Card> = {}): Card {
  return {
    format: CARD_FORMAT,
    name: 'tiny',
    version: 1,
    task: 'multiclass',
    description: 'test classifier',
    inputs: [
      { name: 'a', type: 'float', nullable: false, range: { min: -100, max: 100 } },
      { name: 'b', type: 'float', nullable: true },
      { name: 'colour', type: 'category', nullable: false, vocabulary: ['red', 'green'] },
    ],
    outputs: { label: 'label', probabilities: 'probabilities', classes: ['x', 'y', 'z'] },
    ...overrides,
  };
}

/** a, b (NaN → 0), one-hot(colour) → Gemm → Softmax / ArgMax. */
export function tinyModelBytes(): Uint8Array {
  return encodeModel({
    name: 'tiny',
    nodes: [
      { op: 'IsNaN', inputs: ['b'], outputs: ['b_nan'] },
      { op: 'Where', inputs: ['b_nan', 'zero', 'b'], outputs: ['b_f'] },
      { op: 'OneHotEncoder', domain: 'ai.onnx.ml', inputs: ['colour'], outputs: ['colour_oh3'], attrs: { cats_strings: ['red', 'green'], zeros: 1 } },
      { op: 'Reshape', inputs: ['colour_oh3', 'shape_n2'], outputs: ['colour_oh'] },
      { op: 'Concat', inputs: ['a', 'b_f', 'colour_oh'], outputs: ['x'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['x', 'W', 'B'], outputs: ['z'] },
      { op: 'Softmax', inputs: ['z'], outputs: ['probabilities'], attrs: { axis: 1 } },
      { op: 'ArgMax', inputs: ['z'], outputs: ['label'], attrs: { axis: 1, keepdims: 0 } },
    ],
    inputs: [
      { name: 'a', type: 'float', shape: ['N', 1] },
      { name: 'b', type: 'float', shape: ['N', 1] },
      { name: 'colour', type: 'string', shape: ['N', 1] },
    ],
    outputs: [
      { name: 'probabilities', type: 'float', shape: ['N', 3] },
      { name: 'label', type: 'int64', shape: ['N'] },
    ],
    initializers: [
      { name: 'zero', type: 'float', dims: [], data: [0] },
      { name: 'shape_n2', type: 'int64', dims: [2], data: [-1, 2] },
      { name: 'W', type: 'float', dims: [4, 3], data: [0.5, -0.25, 0.1, 0.3, 0.2, -0.4, 1.0, -1.0, 0.0, -0.5, 0.75, 0.25] },
      { name: 'B', type: 'float', dims: [3], data: [0.1, 0.0, -0.1] },
    ],
  });
}

export function writePackage(dir: string, card: Card = tinyCard(), bytes: Uint8Array = tinyModelBytes()): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  fs.writeFileSync(path.join(dir, 'card.json'), JSON.stringify(card, null, 2));
  return dir;
}
