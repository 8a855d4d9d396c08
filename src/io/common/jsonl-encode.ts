// JSON Lines output: one object per row with the columns in order. Missing values (NaN, null,
// codes outside a dictionary) and ±Infinity, which JSON cannot hold, are null. float32 columns get
// the shortest text that round-trips (float32-format.ts); other numbers String().

import { formatFloat32 } from './float32-format.ts';
import { dictValue } from './out-schema.ts';
import type { OutColumn, OutputBatch } from './table.ts';

function jsonNumber(v: number): string {
  return v - v === 0 ? String(v) : 'null';
}

function valueTexts(column: OutColumn, rows: number): string[] {
  const out = new Array<string>(rows);
  switch (column.type) {
    case 'float32': {
      const v = column.values;
      for (let i = 0; i < rows; i++) out[i] = v[i] - v[i] === 0 ? formatFloat32(v[i]) : 'null';
      break;
    }
    case 'float64':
    case 'int': {
      const v = column.values;
      for (let i = 0; i < rows; i++) out[i] = jsonNumber(v[i]);
      break;
    }
    case 'string': {
      const v = column.values;
      for (let i = 0; i < rows; i++) out[i] = v[i] === null ? 'null' : JSON.stringify(v[i]);
      break;
    }
    case 'dict': {
      const encoded = column.dictionary.map((d) => JSON.stringify(d));
      const codes = column.codes;
      for (let i = 0; i < rows; i++) out[i] = dictValue(encoded, codes[i]) ?? 'null';
      break;
    }
  }
  return out;
}

export function encodeJsonlRows(batch: OutputBatch): string {
  const rows = batch.length;
  const keys = batch.columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`);
  const columns = batch.columns.map((c) => valueTexts(c, rows));
  let text = '';
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns.length; c++) text += keys[c] + columns[c][r];
    text += columns.length > 0 ? '}\n' : '{}\n';
  }
  return text;
}
