// The "bring your own model" fixtures (test/fixtures/byo, made by make_fixtures.py): graphs in the
// exact layouts skl2onnx and torch.onnx.export write, the Seattle weather data they were fitted on,
// scikit-learn's own predictions, and the cards a user would write for them by hand.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { intraOpThreadsHere } from '../../src/inference/node/engine.ts';
import { inspectModel } from '../../src/onnx/common/onnx.ts';
import { CARD_FORMAT, type Card } from '../../src/package/common/card.ts';
import { REPO } from './cli.ts';

export const BYO = path.join(REPO, 'test', 'fixtures', 'byo');
export const TRAIN = path.join(BYO, 'weather-train.csv');
export const HELD_OUT = path.join(BYO, 'weather-2015.csv');
export type Fixture = 'logreg' | 'forest' | 'mlp' | 'linreg';
export const FIXTURES: Fixture[] = ['logreg', 'forest', 'mlp', 'linreg'];

export interface Expected { features: string[]; target: string; classes?: string[]; label?: (string | number)[]; probabilities?: number[][]; value?: number[] }
export const expected = JSON.parse(fs.readFileSync(path.join(BYO, 'expected.json'), 'utf8')) as Record<Fixture, Expected>;

export const modelBytes = (name: string): Uint8Array => fs.readFileSync(path.join(BYO, `${name}.onnx`));

/**
 * A direct ONNX Runtime session run as `outpost score` runs it: with the engine's thread count for
 * that graph (intraOpThreadsHere: one thread for a tree ensemble, whose last bits depend on the
 * count), so that the comparison is of the same computation.
 */
export const directSession = (model: Uint8Array): Promise<ort.InferenceSession> => ort.InferenceSession.create(model, { intraOpNumThreads: intraOpThreadsHere(inspectModel(model)) });

/** The graph input each fixture takes its [N, F] features on. */
export const tensorInput = (f: Fixture): string => (f === 'mlp' ? 'input' : 'float_input');

/** A card written by hand for a fixture (what `models init` should infer). */
export function handCard(f: Fixture, overrides: Partial<Card> = {}): Card {
  const e = expected[f];
  const base = {
    format: CARD_FORMAT as typeof CARD_FORMAT,
    name: `byo-${f}`,
    version: 1,
    inputs: e.features.map((name) => ({ name, type: 'float' as const, nullable: false })),
    tensors: [{ input: tensorInput(f), features: e.features }],
  };
  const card: Card = f === 'linreg'
    ? { ...base, task: 'regression', outputs: { value: 'variable' } }
    : f === 'mlp'
      ? { ...base, task: 'multiclass', outputs: { probabilities: 'output', classes: e.classes } }
      : f === 'forest'
        ? { ...base, task: 'multiclass', outputs: { label: 'output_label', probabilities: 'probabilities', classes: e.classes, labelEncoding: 'class' } }
        : { ...base, task: 'multiclass', outputs: { label: 'output_label', probabilities: 'probabilities', classes: e.classes } };
  return { ...card, ...overrides };
}

export function readCsv(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));
  return { header, rows };
}

/**
 * A direct onnxruntime-node run of a fixture on the held-out rows: the reference for exact scores.
 * ZipMap models are read from their `-nozipmap` twin (the layout skl2onnx writes with
 * zipmap=False), built independently by the generator; their labels from the original graph.
 */
export async function directRun(f: Fixture): Promise<{ label?: string[]; probabilities?: Float32Array; value?: Float32Array; rows: number }> {
  const { header, rows } = readCsv(HELD_OUT);
  const feats = expected[f].features;
  const x = new Float32Array(rows.length * feats.length);
  rows.forEach((r, i) => feats.forEach((name, k) => (x[i * feats.length + k] = Number(r[header.indexOf(name)]))));
  const feed = { [tensorInput(f)]: new ort.Tensor('float32', x, [rows.length, feats.length]) };
  if (f === 'linreg') {
    const s = await directSession(modelBytes('linreg'));
    return { value: (await s.run(feed)).variable.data as Float32Array, rows: rows.length };
  }
  if (f === 'mlp') {
    const s = await directSession(modelBytes('mlp'));
    return { probabilities: (await s.run(feed)).output.data as Float32Array, rows: rows.length };
  }
  const twin = await directSession(modelBytes(`${f}-nozipmap`));
  const original = await directSession(modelBytes(f));
  const labels = (await original.run(feed, ['output_label'])).output_label.data as string[] | BigInt64Array;
  const twinOut = await twin.run(feed);
  const twinLabels = twinOut.output_label.data as string[] | BigInt64Array;
  if (Array.from(twinLabels, String).join() !== Array.from(labels, String).join()) throw new Error(`${f}: the twin's labels differ from the original's`);
  return { label: Array.from(labels, String), probabilities: twinOut.output_probability.data as Float32Array, rows: rows.length };
}
