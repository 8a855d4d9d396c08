// CSV output (RFC 4180): a header line, LF line ends, a field quoted only when it holds the
// delimiter, a quote or a line break. Missing values (NaN, null, codes outside a dictionary) are
// empty fields; an empty string is written as "" so that it reads back as "", not as missing.
// float32 columns get the shortest text that round-trips (float32-format.ts); other numbers String().

import { formatFloat32 } from './float32-format.ts';
import { dictValue } from './out-schema.ts';
import type { OutField } from './out-schema.ts';
import type { OutColumn, OutputBatch } from './table.ts';

export function csvQuote(text: string, delimiter: string): string {
  if (text === '') return '""';
  if (text.includes('"')) return `"${text.replaceAll('"', '""')}"`;
  if (text.includes(delimiter) || text.includes('\n') || text.includes('\r')) return `"${text}"`;
  return text;
}

export function encodeCsvHeader(schema: readonly OutField[], delimiter = ','): string {
  return `${schema.map((f) => csvQuote(f.name, delimiter)).join(delimiter)}\n`;
}

/** Cell texts of one column, row by row (the encoders join them). */
function cellTexts(column: OutColumn, rows: number, delimiter: string): string[] {
  const out = new Array<string>(rows);
  switch (column.type) {
    case 'float32': {
      const v = column.values;
      for (let i = 0; i < rows; i++) out[i] = v[i] !== v[i] ? '' : formatFloat32(v[i]);
      break;
    }
    case 'float64':
    case 'int': {
      const v = column.values;
      for (let i = 0; i < rows; i++) out[i] = v[i] !== v[i] ? '' : String(v[i]);
      break;
    }
    case 'string': {
      const v = column.values;
      for (let i = 0; i < rows; i++) out[i] = v[i] === null ? '' : csvQuote(v[i] as string, delimiter);
      break;
    }
    case 'dict': {
      const quoted = column.dictionary.map((d) => csvQuote(d, delimiter));
      const codes = column.codes;
      for (let i = 0; i < rows; i++) out[i] = dictValue(quoted, codes[i]) ?? '';
      break;
    }
  }
  return out;
}

/** The rows of a batch as CSV text (each row ends with LF). */
export function encodeCsvRows(batch: OutputBatch, delimiter = ','): string {
  const rows = batch.length;
  const columns = batch.columns.map((c) => cellTexts(c, rows, delimiter));
  const last = columns.length - 1;
  let text = '';
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < last; c++) text += columns[c][r] + delimiter;
    text += `${last >= 0 ? columns[last][r] : ''}\n`;
  }
  return text;
}
