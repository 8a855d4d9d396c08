// The first record of a CSV file: the column names. This is also where a file that is not text
// at all is caught (NUL bytes, invalid UTF-8), before the hot-path decoder sees a single byte.

import { OutpostError } from '../../common/errors.ts';
import { CR, LF, QUOTE } from './csv-bytes.ts';

export interface CsvHeader {
  names: string[];
  /** byte offset of the first data row (after the BOM, the header and its line break) */
  dataStart: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parse the header from the start of a file. `null` means the header is not complete in `bytes`
 * and more of the file is needed (`eof` false). Throws OutpostError('input') for binary data,
 * invalid UTF-8 or a missing header.
 */
export function parseCsvHeader(bytes: Uint8Array, eof: boolean, delimiter: number, file: string): CsvHeader | null {
  let p = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  // leading blank lines are skipped, as between data rows
  while (p < bytes.length && (bytes[p] === LF || bytes[p] === CR)) p++;
  if (p === bytes.length) {
    if (!eof) return null;
    throw new OutpostError('input', 'the file has no header line (it is empty or blank)', { file });
  }
  const fields: Uint8Array[] = [];
  let field: number[] = [];
  let inQuotes = false;
  let atFieldStart = true;
  for (; p < bytes.length; p++) {
    const c = bytes[p];
    if (c === 0) throw new OutpostError('input', 'the header contains NUL bytes: this is a binary file, not CSV text', { file });
    if (inQuotes) {
      if (c !== QUOTE) field.push(c);
      else if (p + 1 < bytes.length && bytes[p + 1] === QUOTE) { field.push(QUOTE); p++; }
      else if (p + 1 === bytes.length && !eof) return null; // may be the first half of ""
      else inQuotes = false;
      continue;
    }
    if (c === QUOTE && atFieldStart) { inQuotes = true; atFieldStart = false; continue; }
    atFieldStart = false;
    if (c === delimiter) { fields.push(Uint8Array.from(field)); field = []; atFieldStart = true; continue; }
    if (c === LF || c === CR) {
      let next = p + 1;
      if (c === CR && next < bytes.length && bytes[next] === LF) next++;
      else if (c === CR && next === bytes.length && !eof) return null; // the LF of a CRLF may follow
      fields.push(Uint8Array.from(field));
      return { names: decodeNames(fields, file), dataStart: next };
    }
    field.push(c);
  }
  if (!eof) return null;
  if (inQuotes) throw new OutpostError('input', 'the header has an unterminated quoted field', { file });
  fields.push(Uint8Array.from(field));
  return { names: decodeNames(fields, file), dataStart: bytes.length };
}

function decodeNames(fields: Uint8Array[], file: string): string[] {
  const names = fields.map((f, i) => {
    try {
      return utf8.decode(f);
    } catch {
      throw new OutpostError('input', `header field ${i + 1} is not valid UTF-8 text: this is not a CSV file (or not UTF-8 encoded)`, { file });
    }
  });
  return names; // repeated names are the caller's to judge (io/node/open.ts)
}

/** Whether bytes[from..] holds anything but line breaks; `undefined` when the answer lies beyond them. */
export function hasDataAfter(bytes: Uint8Array, from: number, eof: boolean): boolean | undefined {
  for (let p = from; p < bytes.length; p++) if (bytes[p] !== LF && bytes[p] !== CR) return true;
  return eof ? false : undefined;
}
