// CSV output (RFC 4180): a header line, LF line ends, a field quoted only when it holds the
// delimiter, a quote or a line break. Missing values (NaN, null, codes outside a dictionary) are
// empty fields; an empty string is written as "" so that it reads back as "", not as missing.
// float32 columns get the shortest text that round-trips (float32-format.ts); other numbers the
// text String() gives. Rows are encoded straight into bytes (byte-builder.ts).

import { ByteBuilder } from './byte-builder.ts';
import type { OutField } from './out-schema.ts';
import type { OutputBatch } from './table.ts';
import { utf8Cell } from './utf8-cells.ts';

const encoder = new TextEncoder();

/**
 * OWASP CSV injection: a spreadsheet runs a cell that begins with = + - @ (or a tab, CR or LF
 * before one) as a formula. With `safe`, such a text cell is written with a leading single quote
 * (shown as text, not run), then quoted as usual. Only text cells: numbers are written as numbers.
 */
export function csvSafeText(text: string): string {
  const c = text.charCodeAt(0);
  return c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40 || c === 0x09 || c === 0x0d || c === 0x0a ? `'${text}` : text;
}

export function csvQuote(text: string, delimiter: string, safe = false): string {
  if (safe) text = csvSafeText(text);
  if (text === '') return '""';
  if (text.includes('"')) return `"${text.replaceAll('"', '""')}"`;
  if (text.includes(delimiter) || text.includes('\n') || text.includes('\r')) return `"${text}"`;
  return text;
}

export function encodeCsvHeader(schema: readonly OutField[], delimiter = ',', safe = false): string {
  return `${schema.map((f) => csvQuote(f.name, delimiter, safe)).join(delimiter)}\n`;
}

/**
 * Write a text cell that needs no quoting (ASCII without the delimiter, quotes or line breaks, not
 * empty) straight into `out`; false, with nothing written, for any other text.
 */
function plainText(out: ByteBuilder, text: string, sep: number): boolean {
  const n = text.length;
  if (n === 0) return false;
  out.ensure(n);
  const buf = out.buf;
  let pos = out.pos;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || c === 0x22 || c === sep || c === 0x0a || c === 0x0d) return false;
    buf[pos++] = c;
  }
  out.pos = pos;
  return true;
}

/**
 * The same for a cell given as UTF-8 bytes: copied when it needs no quoting (not empty, without the
 * delimiter, quotes or line breaks). Bytes past ASCII are copied too: they are the UTF-8 of the
 * string the text path would encode (readers keep only valid UTF-8).
 */
function plainBytes(out: ByteBuilder, src: Uint8Array, start: number, end: number, sep: number): boolean {
  const n = end - start;
  if (n === 0) return false;
  out.ensure(n);
  const buf = out.buf;
  let pos = out.pos;
  for (let i = start; i < end; i++) {
    const c = src[i];
    if (c === 0x22 || c === sep || c === 0x0a || c === 0x0d) return false;
    buf[pos++] = c;
  }
  out.pos = pos;
  return true;
}

/** Append the rows of a batch as CSV (each row ends with LF) to `out`. */
export function encodeCsvRows(batch: OutputBatch, out: ByteBuilder, delimiter = ',', safe = false): void {
  const rows = batch.length;
  const columns = batch.columns;
  const sep = delimiter.charCodeAt(0);
  const dictionaries = columns.map((c) => (c.type === 'dict' ? c.dictionary.map((d) => encoder.encode(csvQuote(d, delimiter, safe))) : []));
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) out.byte(sep);
      // each case reads one array type, so every element access stays monomorphic
      const c = columns[i];
      switch (c.type) {
        case 'float32': {
          const v = c.values[r];
          if (v === v) out.float32(v);
          break;
        }
        case 'float64': {
          const v = c.values[r];
          if (v === v) out.text(String(v));
          break;
        }
        case 'int': {
          const v = c.values[r];
          if (v === v) out.integer(v);
          break;
        }
        case 'string': {
          const v = c.values[r];
          // most ids need no quoting: one pass that copies them (with csvSafe, the quoting rules)
          if (v !== null && (safe || !plainText(out, v, sep))) out.text(csvQuote(v, delimiter, safe));
          break;
        }
        case 'utf8': {
          const start = c.starts[r];
          if (start >= 0 && (safe || !plainBytes(out, c.bytes, start, c.ends[r], sep))) out.text(csvQuote(utf8Cell(c, r)!, delimiter, safe));
          break;
        }
        case 'dict': {
          const code = c.codes[r];
          const dictionary = dictionaries[i];
          if (code >= 0 && code < dictionary.length) out.append(dictionary[code]);
          break;
        }
      }
    }
    out.byte(0x0a);
  }
}

/** The rows of a batch as CSV text (convenience for tests and small outputs). */
export function csvRowsText(batch: OutputBatch, delimiter = ',', safe = false): string {
  const out = new ByteBuilder();
  encodeCsvRows(batch, out, delimiter, safe);
  return new TextDecoder().decode(out.bytes());
}
