// The benchmark baseline for the CSV reader: the least work that still turns numeric CSV bytes into
// doubles. It splits on the delimiter and newlines, parses every field with the reader's own float
// scanner (so the comparison measures the reader's overhead, not a different float algorithm) and
// sums the values. No quoting, no validation, no columns, no row accounting.

import { scanDecimal, scanStop } from './decimal.ts';

export interface FloatScanResult { sum: number; fields: number; lines: number }

/** Sum every field of bytes[start, end) parsed as a float. `skipFirstLine` skips a header. */
export function scanFloats(bytes: Uint8Array, delimiter: number, skipFirstLine: boolean): FloatScanResult {
  const end = bytes.length;
  let p = 0;
  if (skipFirstLine) { while (p < end && bytes[p] !== 0x0a) p++; p++; }
  let sum = 0;
  let fields = 0;
  let lines = 0;
  while (p < end) {
    sum += scanDecimal(bytes, p, end);
    p = scanStop[0];
    fields++;
    // p is at the delimiter or the line end
    if (p < end && bytes[p] === 0x0d) p++;
    if (p < end && bytes[p] === 0x0a) lines++;
    p++;
  }
  return { sum, fields, lines };
}
