// Small seeded training tables for the trainer's tests: a binary target with a numeric signal, a
// category with its own effect and a nullable numeric column (some values missing), written as CSV.
import fs from 'node:fs';
import path from 'node:path';
import { createRng } from '../../src/train/common/random.ts';
import type { TrainTable } from '../../src/train/common/table.ts';

export function syntheticTable(rows: number, seed = 3): TrainTable {
  const rng = createRng(seed);
  const x1 = new Float64Array(rows);
  const x2 = new Float64Array(rows);
  const n3 = new Float64Array(rows);
  const colour: (string | null)[] = [];
  const y: string[] = [];
  const value = new Float64Array(rows);
  const colours = ['red', 'green', 'blue'];
  for (let i = 0; i < rows; i++) {
    x1[i] = Math.round(rng.normal() * 1000) / 100;
    x2[i] = rng.next() < 0.1 ? NaN : Math.round(rng.uniform(0, 50) * 10) / 10;
    n3[i] = rng.int(7);
    const c = rng.next() < 0.05 ? null : colours[rng.int(3)];
    colour.push(c);
    const z = 0.4 * x1[i] + (c === 'red' ? 1.2 : c === 'blue' ? -0.8 : 0) + (Number.isNaN(x2[i]) ? 0.5 : (x2[i] - 25) / 20) + (n3[i] > 4 ? 1 : 0) + rng.normal();
    y.push(z > 0 ? 'yes' : 'no');
    value[i] = 3 * x1[i] + (Number.isNaN(x2[i]) ? 0 : x2[i]) + rng.normal();
  }
  return { rows, columns: { x1, x2, n3, colour, y, value } };
}

export function writeCsv(file: string, t: TrainTable, columns = Object.keys(t.columns)): string {
  const lines = [columns.join(',')];
  for (let i = 0; i < t.rows; i++) {
    lines.push(columns.map((c) => {
      const v = (t.columns[c] as ArrayLike<unknown>)[i];
      return v === null || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v);
    }).join(','));
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
