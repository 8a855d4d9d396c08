// Shared by the io-*.test.ts files: a seeded PRNG, temp dirs, and reading a whole source into rows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import type { ColumnBatch, ColumnRequest, ReadOptions, TableSource } from '../../src/io/common/table.ts';
import { stringValues } from '../../src/io/common/utf8-cells.ts';

/** mulberry32: small, seeded, good enough for property tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A temp dir removed after the test file finishes. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function collect(source: TableSource, request: readonly ColumnRequest[], options: ReadOptions): Promise<ColumnBatch[]> {
  const out: ColumnBatch[] = [];
  for await (const b of source.batches(request, options)) out.push(b);
  return out;
}

/** Cells as plain values, row by row: numbers, null (missing), {bad: text} (unparsable), strings. */
export type Cell = number | string | null | { bad: string };
export interface Rows { rows: Cell[][]; problems: { row: number; field?: string; reason: string }[] }

export function toRows(batches: readonly ColumnBatch[]): Rows {
  const rows: Cell[][] = [];
  const problems: Rows['problems'] = [];
  for (const b of batches) {
    problems.push(...b.rowProblems);
    for (let r = 0; r < b.length; r++) {
      rows.push(b.columns.map((c): Cell => {
        if (c.kind === 'string') return stringValues(c)[r];
        if (c.status[r] === 0) return c.values[r];
        if (c.status[r] === 1) return null;
        return { bad: c.bad?.get(r) ?? '?' };
      }));
    }
  }
  return { rows, problems };
}
