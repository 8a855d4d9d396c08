// JSON Lines output: one object per row with the columns in order. Missing values (NaN, null,
// codes outside a dictionary) and ±Infinity, which JSON cannot hold, are null. float32 columns get
// the shortest text that round-trips (float32-format.ts); other numbers the text String() gives.
// Rows are encoded straight into bytes (byte-builder.ts).

import type { ByteBuilder } from './byte-builder.ts';
import type { OutputBatch } from './table.ts';
import { utf8Cell } from './utf8-cells.ts';

const encoder = new TextEncoder();
const NULL = encoder.encode('null');

/** Append the rows of a batch as JSON Lines to `out`. */
export function encodeJsonlRows(batch: OutputBatch, out: ByteBuilder): void {
  const rows = batch.length;
  const columns = batch.columns;
  const keys = columns.map((c, i) => encoder.encode(`${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`));
  const dictionaries = columns.map((c) => (c.type === 'dict' ? c.dictionary.map((d) => encoder.encode(JSON.stringify(d))) : []));
  for (let r = 0; r < rows; r++) {
    if (columns.length === 0) out.byte(0x7b); // {
    for (let i = 0; i < columns.length; i++) {
      out.append(keys[i]);
      const c = columns[i];
      switch (c.type) {
        case 'float32': {
          const v = c.values[r];
          if (v - v === 0) out.float32(v);
          else out.append(NULL);
          break;
        }
        case 'float64': {
          const v = c.values[r];
          if (v - v === 0) out.text(String(v));
          else out.append(NULL);
          break;
        }
        case 'int': {
          const v = c.values[r];
          if (v - v === 0) out.integer(v);
          else out.append(NULL);
          break;
        }
        case 'string': {
          const v = c.values[r];
          if (v === null) out.append(NULL);
          else out.text(JSON.stringify(v));
          break;
        }
        case 'utf8': {
          const v = utf8Cell(c, r);
          if (v === null) out.append(NULL);
          else out.text(JSON.stringify(v));
          break;
        }
        case 'dict': {
          const code = c.codes[r];
          const dictionary = dictionaries[i];
          out.append(code >= 0 && code < dictionary.length ? dictionary[code] : NULL);
          break;
        }
      }
    }
    out.byte(0x7d); // }
    out.byte(0x0a);
  }
}
